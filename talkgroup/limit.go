package talkgroup

import "time"

// Per-speaker rate bound: a transmission is 50 frames a second; 60 with a
// burst of 100 leaves room for jitter and a tree refresh, and caps what a
// member (or a forged-but-valid flood from a member) makes each forwarder
// verify and send.
const (
	speakerRate  = 60
	speakerBurst = 100
	// viaRate bounds the PTT frames taken from one neighbour, before their
	// signatures are checked: the overlay's own per-link PTT rate (200 a
	// second, overlay/pttlane.go), four talkgroups' streams at once.
	viaRate = 200
)

// bucket is a token bucket; the zero rate and burst mean the speaker's.
type bucket struct {
	tokens      float64
	at          time.Time
	rate, burst float64
}

func (b *bucket) take(now time.Time) bool {
	if b.rate == 0 {
		b.rate, b.burst = speakerRate, speakerBurst
	}
	if b.at.IsZero() {
		b.tokens, b.at = b.burst, now
	}
	if dt := now.Sub(b.at).Seconds(); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt*b.rate)
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// seen is a sliding window of the last 64 sequence numbers of a stream: a
// frame reaching a node twice (a tree refreshed between two frames) is
// neither played nor forwarded twice.
type seen struct {
	top  uint32
	bits uint64
	any  bool
}

// add reports whether seq is new.
func (s *seen) add(seq uint32) bool {
	switch {
	case !s.any:
		s.any, s.top, s.bits = true, seq, 1
		return true
	case seq > s.top:
		if d := seq - s.top; d < 64 {
			s.bits = s.bits<<d | 1
		} else {
			s.bits = 1
		}
		s.top = seq
		return true
	}
	d := s.top - seq
	if d >= 64 || s.bits&(1<<d) != 0 {
		return false
	}
	s.bits |= 1 << d
	return true
}
