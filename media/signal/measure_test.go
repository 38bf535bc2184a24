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

// TestMedianToneLevelSurvivesAPhaseShift: half a period of phase lost mid-way
// (a stretched or skipped frame) cancels a tone measured over the whole second,
// not one measured in short windows.
func TestMedianToneLevelSurvivesAPhaseShift(t *testing.T) {
	const rate, hz, amp = 48000, 773.0, 0.25
	x := make([]int16, rate)
	for i := range x {
		ph := 2 * math.Pi * hz * float64(i) / rate
		if i >= rate/2 {
			ph += math.Pi
		}
		x[i] = int16(amp * 32767 * math.Sin(ph))
	}
	if whole := ToneLevel(x, hz, rate); whole > 0.05 {
		t.Fatalf("whole second reads %.3f: the test signal does not show the cancellation", whole)
	}
	if got := MedianToneLevel(x, hz, rate, rate/5); math.Abs(got-amp) > 0.01 {
		t.Fatalf("median of 200 ms windows %.3f, want %.2f", got, amp)
	}
	if got := MedianToneLevel(x[:100], hz, rate, rate/5); got != 0 {
		t.Fatalf("no whole window: %v, want 0", got)
	}
}
