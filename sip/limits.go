package sip

import (
	"sync"
	"time"
)

// Per-source bounds on what phones (or anyone on the LAN) may ask of the
// registrar: requests a second, and wrong passwords.

const (
	// requestBurst and requestRate bound the requests (REGISTER, INVITE,
	// MESSAGE, OPTIONS…) one source address may make: a phone registering,
	// answering the challenge and sending a message needs 3 in a second; 20
	// at once and 10 a second after that are a script, which is then
	// dropped (UDP: silence is what a flood gets; counted sip_flood_dropped).
	requestBurst = 20
	requestRate  = 10.0
	// maxSources bounds the addresses tracked; when full, the idlest is
	// forgotten (a LAN has far fewer phones).
	maxSources = 4096
	// failuresBefore403: a phone with a mistyped password gets 401 this many
	// times (it may retry with a fresh nonce), then 403 and back-off.
	failuresBefore403 = 3
	// firstBackoff doubles per further failure up to maxBackoff: during it
	// every attempt of that account from that address gets 403 unchecked,
	// so guessing runs at most one password per maxBackoff.
	firstBackoff = 2 * time.Second
	maxBackoff   = 5 * time.Minute
)

type bucket struct {
	tokens float64
	at     time.Time
}

type failures struct {
	count int
	until time.Time // back-off: refused unchecked before this
	at    time.Time
}

// limiter keeps the per-source buckets and per-(source, account) failures.
type limiter struct {
	mu    sync.Mutex
	now   func() time.Time
	srcs  map[string]*bucket
	fails map[string]*failures // key: address + " " + account
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, srcs: map[string]*bucket{}, fails: map[string]*failures{}}
}

// allow takes a token from src's bucket.
func (l *limiter) allow(src string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.srcs[src]
	if b == nil {
		if len(l.srcs) >= maxSources {
			l.evictSources(now)
		}
		b = &bucket{tokens: requestBurst, at: now}
		l.srcs[src] = b
	}
	b.tokens = min(requestBurst, b.tokens+now.Sub(b.at).Seconds()*requestRate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// evictSources forgets full buckets (idle sources), else the idlest one.
func (l *limiter) evictSources(now time.Time) {
	var idlest string
	var at time.Time
	for k, b := range l.srcs {
		if b.tokens+now.Sub(b.at).Seconds()*requestRate >= requestBurst {
			delete(l.srcs, k)
			continue
		}
		if idlest == "" || b.at.Before(at) {
			idlest, at = k, b.at
		}
	}
	if len(l.srcs) >= maxSources {
		delete(l.srcs, idlest)
	}
}

// backedOff says whether account user from src is in back-off now.
func (l *limiter) backedOff(src, user string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fails[src+" "+user]
	return f != nil && l.now().Before(f.until)
}

// failed records a wrong password and says whether the answer is 403 (too
// many) rather than 401.
func (l *limiter) failed(src, user string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	k := src + " " + user
	f := l.fails[k]
	if f == nil {
		if len(l.fails) >= maxSources {
			for k, f := range l.fails { // forget any whose back-off is over
				if now.After(f.until) {
					delete(l.fails, k)
				}
			}
			if len(l.fails) >= maxSources {
				return true // full of back-offs: refuse without counting
			}
		}
		f = &failures{}
		l.fails[k] = f
	}
	f.count++
	f.at = now
	if f.count < failuresBefore403 {
		return false
	}
	wait := firstBackoff << min(f.count-failuresBefore403, 10)
	f.until = now.Add(min(wait, maxBackoff))
	return true
}

// succeeded forgets src's failures for user.
func (l *limiter) succeeded(src, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, src+" "+user)
}
