package call

import (
	"time"

	"parley/identity"
)

// sendToOthers sends msg to every participant of call id but this node and those
// that left (DTMF digits, hold changes), and returns the first error.
func (m *Manager) sendToOthers(id ID, msg *Message) error {
	c, err := m.get(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	var to []identity.PeerID
	for _, p := range c.participants {
		if p != m.cfg.Self && !c.gone[p] {
			to = append(to, p)
		}
	}
	c.mu.Unlock()
	var first error
	for _, p := range to {
		if err := m.cfg.Send(p, msg); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// perSecond counts what a call received in the current wall-clock second, to
// bound a participant's DTMF digits and hold changes. The caller holds the call's
// lock.
type perSecond struct {
	sec   int64
	count int
}

// allow counts n more at now and reports whether the second's total is still
// within limit; what goes over is the caller's to drop and count.
func (r *perSecond) allow(now time.Time, n, limit int) bool {
	if s := now.Unix(); s != r.sec {
		r.sec, r.count = s, 0
	}
	r.count += n
	return r.count <= limit
}
