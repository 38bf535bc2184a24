package audio

import (
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"parley/media/signal"
)

func TestFrameConstantsAgree(t *testing.T) {
	if time.Duration(FrameSamples)*time.Second/SampleRate != FrameDuration {
		t.Fatalf("%d samples at %d Hz is not %v", FrameSamples, SampleRate, FrameDuration)
	}
}

func TestToneIsContinuousAcrossFrames(t *testing.T) {
	tone := NewTone(440, 0.5)
	var all []int16
	buf := make([]int16, FrameSamples)
	for range 50 {
		if err := tone.ReadFrame(buf); err != nil {
			t.Fatal(err)
		}
		all = append(all, buf...)
	}
	if f := signal.DominantFrequency(all, SampleRate); math.Abs(f-440) > 0.5 {
		t.Fatalf("frequency %.2f", f)
	}
	if r := signal.RMS(all); math.Abs(r-0.5/math.Sqrt2) > 0.005 {
		t.Fatalf("RMS %.4f for amplitude 0.5", r)
	}
	// A sine's samples never jump more than amplitude·2π·f/rate; a phase reset at a
	// frame boundary would.
	limit := 0.5*32767*2*math.Pi*440/SampleRate + 1
	for i := 1; i < len(all); i++ {
		if d := math.Abs(float64(all[i]) - float64(all[i-1])); d > limit {
			t.Fatalf("jump of %.0f at sample %d (frame boundary: %v)", d, i, i%FrameSamples == 0)
		}
	}
	if err := tone.ReadFrame(make([]int16, 10)); err == nil {
		t.Fatal("short buffer accepted")
	}
}

func TestNullAndMemory(t *testing.T) {
	buf := []int16{}
	for range FrameSamples {
		buf = append(buf, 123)
	}
	n := NewNull()
	if err := n.ReadFrame(buf); err != nil || signal.RMS(buf) != 0 {
		t.Fatalf("null source: %v, RMS %v", err, signal.RMS(buf))
	}
	if err := n.WriteFrame(buf[:5]); err == nil {
		t.Fatal("null sink took a short frame")
	}
	m := NewMemorySink(2 * FrameSamples)
	for i := range 3 {
		buf[0] = int16(i)
		if err := m.WriteFrame(buf); err != nil {
			t.Fatal(err)
		}
	}
	got := m.Samples()
	if len(got) != 2*FrameSamples || got[0] != 0 || got[FrameSamples] != 1 || m.Dropped() != FrameSamples {
		t.Fatalf("memory sink kept %d samples, dropped %d", len(got), m.Dropped())
	}
	m.Close()
	if err := m.WriteFrame(buf); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

// fakeClock hands out one ticker whose ticks the test sends.
type fakeClock struct {
	ticker *fakeTicker
}

type fakeTicker struct {
	c       chan time.Time
	stopped bool
	period  time.Duration
}

func (c *fakeClock) NewTicker(d time.Duration) Ticker {
	c.ticker = &fakeTicker{c: make(chan time.Time), period: d}
	return c.ticker
}
func (t *fakeTicker) C() <-chan time.Time { return t.c }
func (t *fakeTicker) Stop()               { t.stopped = true }

func TestPacedReleasesOneFramePerTick(t *testing.T) {
	clk := &fakeClock{}
	p := Paced(NewTone(1000, 0.1), clk)
	buf := make([]int16, FrameSamples)
	// The first frame is immediate.
	if err := p.ReadFrame(buf); err != nil {
		t.Fatal(err)
	}
	if clk.ticker == nil || clk.ticker.period != FrameDuration {
		t.Fatal("no ticker of one frame period")
	}
	done := make(chan error)
	go func() { done <- p.ReadFrame(buf) }()
	select {
	case <-done:
		t.Fatal("second frame returned before a tick")
	case clk.ticker.c <- time.Time{}:
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Close wakes a reader waiting for a tick.
	go func() { done <- p.ReadFrame(buf) }()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked read after close: %v", err)
	}
	if !clk.ticker.stopped {
		t.Fatal("ticker not stopped")
	}
	if err := p.ReadFrame(buf); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	// Closed before the first read: no ticker is ever made.
	clk2 := &fakeClock{}
	p2 := Paced(NewNull(), clk2)
	p2.Close()
	if err := p2.ReadFrame(buf); !errors.Is(err, ErrClosed) || clk2.ticker != nil {
		t.Fatalf("read after early close: %v, ticker %v", err, clk2.ticker)
	}
}

// finite yields n frames of a constant, then io.EOF.
type finite struct {
	n      int
	closed bool
}

func (f *finite) ReadFrame(dst []int16) error {
	if f.n == 0 {
		return io.EOF
	}
	f.n--
	for i := range dst {
		dst[i] = 1000
	}
	return nil
}
func (f *finite) Close() error { f.closed = true; return nil }

func TestSilenceAfterEOF(t *testing.T) {
	f := &finite{n: 2}
	s := &SilenceAfterEOF{Source: f}
	buf := make([]int16, FrameSamples)
	for i := range 5 {
		if err := s.ReadFrame(buf); err != nil {
			t.Fatal(err)
		}
		if loud := buf[0] != 0; loud != (i < 2) {
			t.Fatalf("frame %d: first sample %d", i, buf[0])
		}
		if s.Ended() != (i >= 2) {
			t.Fatalf("frame %d: Ended %v", i, s.Ended())
		}
	}
	s.Close()
	if !f.closed {
		t.Fatal("Close not passed on")
	}
}

func TestRing(t *testing.T) {
	q := newRing(10)
	seq := func(from, n int) []int16 {
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(from + i)
		}
		return out
	}
	if lost := q.write(seq(0, 7)); lost != 0 {
		t.Fatalf("lost %d", lost)
	}
	out := make([]int16, 5)
	if n := q.read(out); n != 5 || !equal(out, seq(0, 5)) {
		t.Fatalf("read %d: %v", n, out)
	}
	// Wraps: 2 held + 6 written = 8.
	q.write(seq(7, 6))
	if q.len() != 8 {
		t.Fatalf("len %d", q.len())
	}
	// Overflow drops the oldest: 8 + 5 = 13 > 10, so 5..7 go.
	if lost := q.write(seq(13, 5)); lost != 3 {
		t.Fatalf("overflow lost %d, want 3", lost)
	}
	all := make([]int16, 20)
	if n := q.read(all); n != 10 || !equal(all[:10], seq(8, 10)) {
		t.Fatalf("after overflow read %d: %v", n, all[:n])
	}
	// A write larger than the ring keeps its newest samples.
	if lost := q.write(seq(100, 25)); lost != 15 || q.dropped != 18 {
		t.Fatalf("oversized write lost %d (total %d)", lost, q.dropped)
	}
	if n := q.read(all); n != 10 || !equal(all[:10], seq(115, 10)) {
		t.Fatalf("oversized write kept %v", all[:n])
	}
	if n := q.read(all); n != 0 {
		t.Fatalf("empty ring read %d", n)
	}
}
