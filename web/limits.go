package web

import (
	"sync"
	"time"
)

// Limits bound what one guest (or one address) may do. Every limit is a token
// bucket: Rate per second refilling up to Burst.
type Limits struct {
	// Commands: every command a guest's socket sends. 20/s sustains a fast
	// typist and a page refreshing roster, rooms and history together.
	CommandsPerSec, CommandBurst float64
	// Messages: say and send. 5/s is faster than anyone types; the burst lets a
	// paste of a few lines through.
	MessagesPerSec, MessageBurst float64
	// Calls: call and media (a WebRTC answerer each; a call from the page is
	// both, an answer one). One every 2 s, with room for a few calls in a row
	// (TestGuestsInBrowser makes three within seconds).
	CallsPerSec, CallBurst float64
	// UploadBytesPerSec: upload body rate per guest (LAN speed for a phone,
	// while one guest cannot fill the host's disk at wire speed).
	UploadBytesPerSec float64
	// MaxUpload caps one uploaded file.
	MaxUpload int64
	// Joins per source address: asking the host is a prompt on someone's
	// screen. Every page load joins (a known guest without a prompt), so the
	// burst lets a few quick reloads through; a flood of new names stays slow.
	JoinsPerMinute, JoinBurst float64
	// UploadsAtOnce bounds one guest's concurrent uploads (each holds a file
	// open and a request).
	UploadsAtOnce int
	// MaxSessions bounds open guest sockets (the node bounds guests themselves).
	MaxSessions int
}

func (l Limits) withDefaults() Limits {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.CommandsPerSec, 20)
	def(&l.CommandBurst, 60)
	def(&l.MessagesPerSec, 5)
	def(&l.MessageBurst, 20)
	def(&l.CallsPerSec, 0.5)
	def(&l.CallBurst, 10)
	def(&l.UploadBytesPerSec, 32<<20)
	def(&l.JoinsPerMinute, 12)
	def(&l.JoinBurst, 20)
	if l.MaxUpload <= 0 {
		l.MaxUpload = 4 << 30
	}
	if l.UploadsAtOnce <= 0 {
		l.UploadsAtOnce = 4
	}
	if l.MaxSessions <= 0 {
		l.MaxSessions = 64 // 32 guests, each with a reload's overlap
	}
	return l
}

// bucket is a token bucket; the zero time starts it full.
type bucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newBucket(rate, burst float64) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst, now: time.Now}
}

// take takes n tokens if there are; otherwise it takes none.
func (b *bucket) take(n float64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	if b.tokens < n {
		return false
	}
	b.tokens -= n
	return true
}

// wait is how long until n tokens are there (0: now), taking them on credit:
// the byte-rate limit of uploads sleeps it off instead of refusing.
func (b *bucket) wait(n float64) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	b.tokens -= n
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

func (b *bucket) refill() {
	now := b.now()
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
}

// perKey keeps one bucket per key (a source address), forgetting all of them
// when it holds max keys: a flood of addresses resets the limit rather than
// growing memory, and a real guest's few attempts are unaffected.
type perKey struct {
	mu          sync.Mutex
	rate, burst float64
	max         int
	buckets     map[string]*bucket
}

func newPerKey(rate, burst float64, max int) *perKey {
	return &perKey{rate: rate, burst: burst, max: max, buckets: map[string]*bucket{}}
}

func (p *perKey) take(key string) bool {
	p.mu.Lock()
	b := p.buckets[key]
	if b == nil {
		if len(p.buckets) >= p.max {
			clear(p.buckets)
		}
		b = newBucket(p.rate, p.burst)
		p.buckets[key] = b
	}
	p.mu.Unlock()
	return b.take(1)
}
