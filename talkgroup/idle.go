package talkgroup

import "time"

// An idle service does not tick. Every node runs one whether or not it has a
// talkgroup, and a 20 ms ticker is 50 wake-ups a second of nothing on each —
// in a hall of idle nodes (cmd/benchhall) a share of the idle CPU that issue
// 23 budgets at 0.5 % of a core. Run stops its ticker when nothing is playing
// or waiting to be replayed and no floor is held, queued for, asked for or
// being spoken into; anything that can change that (a frame, a key, a replay)
// pokes it awake.

// frameTick is the playout period: one 20 ms Opus frame.
const frameTick = 20 * time.Millisecond

// poke wakes Run if it sleeps (never blocks).
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// busy says whether Run has anything to do at its next ticks.
func (s *Service) busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live != nil || len(s.replay) > 0 {
		return true
	}
	for _, r := range s.rooms {
		if !r.floor.Quiet() || r.want || r.asked != 0 || r.tx != nil {
			return true
		}
	}
	return false
}
