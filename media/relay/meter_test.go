package relay

import (
	"math"
	"testing"
	"time"
)

func TestMeterBucket(t *testing.T) {
	clk := newClock()
	m := newMeter(80_000, clk.Now) // 10 kB/s, burst 2.5 kB raised to minBurst
	if m.burst != minBurst {
		t.Fatalf("burst %v, want %v", m.burst, float64(minBurst))
	}
	steps := []struct {
		advance time.Duration
		n       int
		want    bool
	}{
		{0, minBurst, true},                        // a full bucket passes a burst
		{0, 1, false},                              // and then nothing
		{100 * time.Millisecond, 1000, true},       // 100 ms earns 1000 bytes
		{0, 1, false},                              //
		{50 * time.Millisecond, 1000, false},       // 500 bytes are not 1000: refused whole
		{0, 500, true},                             // but still there
		{time.Hour, minBurst + 1, false},           // refill stops at the burst
		{0, minBurst, true},                        //
		{-time.Minute, 1, false},                   // a clock stepping back earns nothing
		{time.Minute + time.Millisecond, 10, true}, // and resumes once past where it was
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		if got := m.allow(st.n); got != st.want {
			t.Fatalf("step %d: allow(%d) = %v, want %v", i, st.n, got, st.want)
		}
	}
}

func TestMeterLoad(t *testing.T) {
	clk := newClock()
	m := newMeter(1e6, clk.Now)
	if got := m.bitsPerSecond(); got != 0 {
		t.Fatalf("idle load %v", got)
	}
	// A steady 8 kbit/s for a minute converges on 8 kbit/s.
	for range 60 {
		clk.Advance(time.Second)
		if !m.allow(1000) {
			t.Fatal("refused under the cap")
		}
	}
	if got := m.bitsPerSecond(); math.Abs(got-8000)/8000 > 0.01 {
		t.Fatalf("steady load %v, want about 8000", got)
	}
	// Load follows with the 5 s time constant. The next 5 s are one sample holding
	// the last second's 1000 bytes (1600 bit/s), weighted 1-1/e against the
	// average so far; a long silence then reads as almost nothing.
	clk.Advance(5 * time.Second)
	want := 8000/math.E + 1600*(1-1/math.E)
	if got := m.bitsPerSecond(); math.Abs(got-want) > 1 {
		t.Fatalf("load 5 s after stopping %v, want %v", got, want)
	}
	clk.Advance(time.Minute)
	if got := m.bitsPerSecond(); got > 1 {
		t.Fatalf("load after a silent minute %v", got)
	}
}
