package rtpbridge

import (
	"math"
	"testing"
)

// A 1 kHz tone survives 48k → 8k → 48k with its level and frequency.
func TestResampleKeepsATone(t *testing.T) {
	const n = 4800 // 100 ms
	in := make([]int16, n)
	for i := range in {
		in[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/48000))
	}
	mid := make([]int16, n/ratio)
	down48to8(mid, in)
	out := make([]int16, n)
	var u upsampler
	u.up(out, mid)
	if got, want := rms(out[480:]), rms(in[480:]); got < want*0.8 || got > want*1.05 {
		t.Fatalf("level %f, want about %f", got, want)
	}
	if f := zeroCrossHz(out, 48000); f < 950 || f > 1050 {
		t.Fatalf("frequency %f Hz, want 1000", f)
	}
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func zeroCrossHz(x []int16, rate int) float64 {
	n := 0
	for i := 1; i < len(x); i++ {
		if (x[i-1] < 0) != (x[i] < 0) {
			n++
		}
	}
	return float64(n) / 2 / (float64(len(x)) / float64(rate))
}
