package signal

import (
	"math"
	"testing"
)

// TestToneGap: a 440 Hz tone with a 300 ms hole (and a 700 Hz tone throughout,
// as a mix holds) reads as a 300 ms gap, within a window; no hole, no gap.
func TestToneGap(t *testing.T) {
	const rate, win = 48000, 960
	x := make([]int16, 3*rate)
	holeFrom, holeLen := rate+480, 3*rate/10
	for i := range x {
		v := 6000 * math.Sin(2*math.Pi*700*float64(i)/rate)
		if i < holeFrom || i >= holeFrom+holeLen {
			v += 6000 * math.Sin(2*math.Pi*440*float64(i)/rate)
		}
		x[i] = int16(v)
	}
	start, n := ToneGap(x, 440, rate, win, 0.3)
	if n < holeLen-win || n > holeLen+win || start < holeFrom-win || start > holeFrom+win {
		t.Fatalf("gap at %d for %d samples, want about %d for %d", start, n, holeFrom, holeLen)
	}
	// A gap over most of the recording is still one.
	y := append(make([]int16, 2*rate), x[:rate]...)
	if start, n := ToneGap(y, 440, rate, win, 0.3); start != 0 || n < 2*rate || n > 2*rate+win {
		t.Fatalf("a 2 s silence then 1 s of tone: gap at %d for %d samples", start, n)
	}
	if _, n := ToneGap(x, 700, rate, win, 0.3); n != 0 {
		t.Fatalf("the unbroken 700 Hz tone has a gap of %d samples", n)
	}
}
