package signal

import (
	"math"
	"testing"
)

func TestToneLevel(t *testing.T) {
	const rate = 48000
	x := make([]int16, rate)
	for i := range x {
		ph := 2 * math.Pi * float64(i) / rate
		x[i] = int16(0.5*32767*math.Sin(1000*ph) + 0.1*32767*math.Sin(1234*ph))
	}
	for _, c := range []struct{ hz, want float64 }{{1000, 0.5}, {1234, 0.1}, {777, 0}} {
		if got := ToneLevel(x, c.hz, rate); math.Abs(got-c.want) > 0.002 {
			t.Errorf("level of %.0f Hz: %.4f, want %.3f", c.hz, got, c.want)
		}
	}
	if got := ToneLevel(nil, 1000, rate); got != 0 {
		t.Errorf("level of nothing: %v", got)
	}
}
