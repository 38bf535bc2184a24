package jitter

import (
	"testing"
	"time"
)

func TestUnwrap(t *testing.T) {
	for _, tc := range []struct {
		ref  int64
		v    uint16
		want int64
	}{
		{65535, 0, 65536},
		{65536, 65535, 65535},
		{100, 99, 99},
		{3 * 65536, 5, 3*65536 + 5},
		{3*65536 + 40000, 5, 4*65536 + 5},
	} {
		if got := unwrap16(tc.ref, tc.v); got != tc.want {
			t.Errorf("unwrap16(%d, %d) = %d, want %d", tc.ref, tc.v, got, tc.want)
		}
	}
	if got := unwrap32(1<<32-960, 0); got != 1<<32 {
		t.Errorf("unwrap32 across the wrap: %d", got)
	}
	if got := unwrap32(1<<32, 1<<32-960); got != 1<<32-960 {
		t.Errorf("unwrap32 back across the wrap: %d", got)
	}
}

func TestSeenSet(t *testing.T) {
	var s seenSet
	for _, v := range []int64{10, 12, 11, 600} {
		s.add(v)
	}
	if s.has(10) || s.has(11) {
		t.Error("numbers older than the window still remembered")
	}
	s.add(400)
	if !s.has(600) || !s.has(400) || s.has(401) || s.has(700) {
		t.Error("membership wrong inside the window")
	}
	// Advancing past the window forgets everything.
	s.add(5000)
	if s.has(600) || !s.has(5000) {
		t.Error("window did not move")
	}
}

func TestTimeConversionsDoNotOverflow(t *testing.T) {
	b := New(Config{})
	year := int64(365 * 24 * time.Hour)
	if got := b.nsToTS(year); got != 365*24*3600*48000 {
		t.Errorf("a year is %d timestamp units", got)
	}
	if got := b.tsToNs(365 * 24 * 3600 * 48000); got != year {
		t.Errorf("a year of timestamps is %v", time.Duration(got))
	}
	if got := b.nsToTS(-1); got != -1 {
		t.Errorf("-1 ns rounds to %d units, want -1", got)
	}
	if got := b.tsToNs(-960); got != -int64(20*time.Millisecond) {
		t.Errorf("-960 units is %v", time.Duration(got))
	}
}
