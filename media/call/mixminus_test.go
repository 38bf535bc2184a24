package call

import (
	"math"
	"testing"

	"parley/media/audio"
	"parley/media/signal"
)

// tones returns frames of a sine at hz with the given peak amplitude (of full scale).
func toneFrames(hz, amp float64, frames int) [][]int16 {
	out := make([][]int16, frames)
	for f := range out {
		out[f] = make([]int16, audio.FrameSamples)
		for i := range out[f] {
			t := float64(f*audio.FrameSamples+i) / audio.SampleRate
			out[f][i] = int16(amp * 32767 * math.Sin(2*math.Pi*hz*t))
		}
	}
	return out
}

// level is the amplitude of hz in x as a fraction of full scale.
func level(x []int16, hz float64) float64 { return signal.ToneLevel(x, hz, audio.SampleRate) }

// mixFor runs the mixer's arithmetic over 50 frames of five loud tones (their
// sum far over full scale) and returns the last second of what leg 1 hears.
func mixFor(t *testing.T, shape func(out []int16, sum []int32, own []int16)) []int16 {
	t.Helper()
	hz := []float64{440, 550, 660, 770, 880}
	const frames = 100
	var voices [][][]int16
	for _, h := range hz {
		voices = append(voices, toneFrames(h, 0.3, frames))
	}
	sum := make([]int32, audio.FrameSamples)
	out := make([]int16, audio.FrameSamples)
	var heard []int16
	for f := range frames {
		clear(sum)
		for _, v := range voices {
			accumulate(sum, v[f], 1)
		}
		before := append([]int32(nil), sum...)
		shape(out, sum, voices[1][f])
		for i := range sum {
			if sum[i] != before[i] {
				t.Fatalf("frame %d: the sum changed at %d", f, i)
			}
		}
		if f >= frames-50 {
			heard = append(heard, out...)
		}
	}
	return heard
}

// Loud voices overflow int16 when summed. What each leg hears back must hold all
// the others and none of its own voice: hard clipping the sum would put a trace of
// it back by intermodulation (the five-party integration test once heard it).
func TestMixMinusLeavesNoOwnVoiceWhenTheSumIsLoud(t *testing.T) {
	var lim limiter
	heard := mixFor(t, func(out []int16, sum []int32, own []int16) { mixMinus(out, sum, own, &lim) })
	own := level(heard, 550)
	t.Logf("own voice %.4f; others %.3f %.3f %.3f %.3f", own, level(heard, 440), level(heard, 660), level(heard, 770), level(heard, 880))
	if own > 0.002 {
		t.Errorf("leg hears its own voice at %.4f of full scale", own)
	}
	for _, h := range []float64{440, 660, 770, 880} {
		if l := level(heard, h); l < 0.15 {
			t.Errorf("leg hears %.0f Hz at only %.3f", h, l)
		}
	}
	// The same arithmetic with a hard clip instead of the limiter does put the
	// leg's own voice back: the check above can tell the difference.
	clipped := mixFor(t, func(out []int16, sum []int32, own []int16) {
		accumulate(sum, own, -1)
		clip(out, sum)
		accumulate(sum, own, 1)
	})
	l := level(clipped, 550)
	t.Logf("with a hard clip instead: own voice %.4f", l)
	if l < 0.005 {
		t.Errorf("hard clipping gives own voice %.4f, the limiter %.4f: the test does not discriminate", l, own)
	}
}

func TestLimiterPassesQuietAudioUntouchedAndRecovers(t *testing.T) {
	var lim limiter
	quiet := make([]int32, audio.FrameSamples)
	for i := range quiet {
		quiet[i] = int32(i%200*100 - 10000)
	}
	out := make([]int16, audio.FrameSamples)
	lim.apply(out, quiet)
	for i := range out {
		if int32(out[i]) != quiet[i] {
			t.Fatalf("quiet sample %d: %d, want %d unchanged", i, out[i], quiet[i])
		}
	}
	loud := make([]int32, audio.FrameSamples)
	for i := range loud {
		loud[i] = 4 * quiet[i] // peak 40000: over full scale
	}
	for range 3 {
		lim.apply(out, loud)
	}
	if lim.gain >= 1 || lim.gain < 0.8 {
		t.Fatalf("gain after a loud passage %.3f, want about 32767/40000", lim.gain)
	}
	frames := 0
	for lim.gain < 1 {
		lim.apply(out, quiet)
		frames++
		if frames > 20 {
			t.Fatalf("gain still %.3f after %d quiet frames", lim.gain, frames)
		}
	}
	t.Logf("back to unity gain after %d quiet frames", frames)
}
