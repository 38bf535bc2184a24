package audio

import (
	"sync"
	"time"
)

// Clock makes tickers; tests substitute one whose ticks they send themselves.
type Clock interface {
	NewTicker(d time.Duration) Ticker
}

// Ticker delivers ticks on C until Stop.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// SystemClock is the real clock.
var SystemClock Clock = systemClock{}

type systemClock struct{}

func (systemClock) NewTicker(d time.Duration) Ticker { return systemTicker{time.NewTicker(d)} }

type systemTicker struct{ t *time.Ticker }

func (t systemTicker) C() <-chan time.Time { return t.t.C }
func (t systemTicker) Stop()               { t.t.Stop() }

// PacedSource releases one frame of an unpaced source per FrameDuration.
type PacedSource struct {
	src   Source
	clock Clock

	once   sync.Once
	ticker Ticker
	done   chan struct{}
	close  sync.Once
}

// Paced wraps src so ReadFrame returns in real time. The first frame is returned at
// once and each later one on the next tick; a consumer that falls behind does not
// get a burst afterwards, because a ticker drops ticks nobody is waiting for, which is
// what a live microphone would do too. clock nil means SystemClock.
func Paced(src Source, clock Clock) *PacedSource {
	if clock == nil {
		clock = SystemClock
	}
	return &PacedSource{src: src, clock: clock, done: make(chan struct{})}
}

// ReadFrame waits for the next tick, then reads from the wrapped source. It returns
// ErrClosed if Close is called while it waits.
func (p *PacedSource) ReadFrame(dst []int16) error {
	first := false
	p.once.Do(func() {
		p.ticker = p.clock.NewTicker(FrameDuration)
		first = true
	})
	if p.ticker == nil { // Close got there first
		return ErrClosed
	}
	if !first {
		select {
		case <-p.ticker.C():
		case <-p.done:
			return ErrClosed
		}
	}
	select {
	case <-p.done:
		return ErrClosed
	default:
	}
	return p.src.ReadFrame(dst)
}

// Close stops the ticker, wakes a waiting ReadFrame and closes the wrapped source.
func (p *PacedSource) Close() error {
	var err error
	p.close.Do(func() {
		close(p.done)
		// The once stops a later ReadFrame from starting a ticker nobody would stop.
		p.once.Do(func() {})
		if p.ticker != nil {
			p.ticker.Stop()
		}
		err = p.src.Close()
	})
	return err
}
