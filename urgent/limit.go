package urgent

import (
	"time"

	"parley/identity"
)

// The receiver's caps (doc.go, "Bounds against abuse"). A bucket holds up to
// burst tokens and refills at perMinute a minute.
const (
	senderPerMinute = 6
	senderBurst     = 6
	totalPerMinute  = 60
	totalBurst      = 60
	// maxSenders bounds the per-sender buckets: keys cost nothing, so a map
	// keyed by them must be bounded (full buckets are forgotten first, and
	// forgetting one changes nothing).
	maxSenders = 4096
)

type bucket struct {
	tokens float64
	at     time.Time
}

func (b *bucket) refill(now time.Time, perMinute, burst float64) {
	if b.at.IsZero() {
		b.tokens, b.at = burst, now
	}
	if dt := now.Sub(b.at); dt > 0 {
		b.tokens = min(burst, b.tokens+dt.Minutes()*perMinute)
		b.at = now
	}
}

func (b *bucket) take(now time.Time, perMinute, burst float64) bool {
	b.refill(now, perMinute, burst)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// limiter is the receiver's rate cap; the caller holds the service's lock.
type limiter struct {
	senders map[identity.PeerID]*bucket
	total   bucket
}

// allow spends one of sender's tokens and one of the node-wide ones; the
// reason names the counter of a refusal (after urgent_ or alert_).
func (l *limiter) allow(sender identity.PeerID, now time.Time) (ok bool, reason string) {
	if l.senders == nil {
		l.senders = map[identity.PeerID]*bucket{}
	}
	b := l.senders[sender]
	if b == nil {
		if len(l.senders) >= maxSenders {
			for id, o := range l.senders {
				if o.refill(now, senderPerMinute, senderBurst); o.tokens >= senderBurst {
					delete(l.senders, id)
				}
			}
			if len(l.senders) >= maxSenders {
				return false, "drop_senders"
			}
		}
		b = &bucket{}
		l.senders[sender] = b
	}
	if !b.take(now, senderPerMinute, senderBurst) {
		return false, "drop_rate"
	}
	if !l.total.take(now, totalPerMinute, totalBurst) {
		b.tokens++ // not the sender's fault
		return false, "drop_total_rate"
	}
	return true, ""
}
