package overlay

import (
	"sync"
	"time"
)

// tokenBucket bounds how many frames a link lets into a lane: tokens refill at
// rate a second up to burst, and the bucket starts full. The urgent lane and its
// PTT share each keep one per link (urgentlane.go, pttlane.go).
type tokenBucket struct {
	mu     sync.Mutex
	tokens float64
	at     time.Time
}

// take spends a token if one is left at now.
func (b *tokenBucket) take(now time.Time, rate, burst float64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.at.IsZero() {
		b.tokens, b.at = burst, now
	}
	if dt := now.Sub(b.at).Seconds(); dt > 0 {
		b.tokens = min(burst, b.tokens+dt*rate)
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
