package relay

import (
	"math"
	"sync"
	"time"
)

const (
	// burstWindow sizes the bucket: a quarter second of the budget may pass at once,
	// enough to absorb the jitter of a few Opus streams without letting a sender
	// blow past the cap for long.
	burstWindow = 250 * time.Millisecond
	// minBurst keeps a tiny budget from refusing every full-size datagram.
	minBurst = 2 * 1600
	// loadWindow and loadTau shape the published rate: one sample per second at
	// most, averaged with a 5 s time constant so the published load follows a call
	// starting or ending within seconds but not every packet burst.
	loadWindow = time.Second
	loadTau    = 5 * time.Second
)

// meter is the relay's aggregate token bucket and its load average. Datagrams over
// budget are refused, never delayed: late voice is worse than lost voice, and a
// queue would hold memory for whoever sends fastest.
type meter struct {
	mu  sync.Mutex
	now func() time.Time

	rate, burst float64 // bytes per second, bytes
	tokens      float64
	last        time.Time

	winStart time.Time
	winBytes float64
	ewma     float64 // bits per second
}

func newMeter(bitsPerSecond float64, now func() time.Time) *meter {
	rate := bitsPerSecond / 8
	burst := math.Max(rate*burstWindow.Seconds(), minBurst)
	t := now()
	return &meter{now: now, rate: rate, burst: burst, tokens: burst, last: t, winStart: t}
}

// allow takes n bytes from the bucket if they are there.
func (m *meter) allow(n int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if d := now.Sub(m.last); d > 0 { // a clock stepping back refills nothing
		m.tokens = math.Min(m.burst, m.tokens+d.Seconds()*m.rate)
		m.last = now
	}
	m.roll(now)
	if float64(n) > m.tokens {
		return false
	}
	m.tokens -= float64(n)
	m.winBytes += float64(n)
	return true
}

// bitsPerSecond is the load average as of now.
func (m *meter) bitsPerSecond() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.roll(m.now())
	return m.ewma
}

// roll closes the current sample window once it is long enough. One long idle gap
// is one sample whose weight is near 1, so an idle relay reads near zero at once.
func (m *meter) roll(now time.Time) {
	el := now.Sub(m.winStart)
	if el < loadWindow {
		return
	}
	inst := m.winBytes * 8 / el.Seconds()
	m.ewma += (1 - math.Exp(-el.Seconds()/loadTau.Seconds())) * (inst - m.ewma)
	m.winStart, m.winBytes = now, 0
}
