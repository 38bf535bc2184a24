package signal

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// noise returns n samples of uniform white noise of the given peak amplitude.
func noise(rng *rand.Rand, n int, peak float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16((rng.Float64()*2 - 1) * peak)
	}
	return out
}

func sine(n int, hz, amp float64, rate int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))))
	}
	return out
}

// delayed returns ref shifted right by lag samples (left if negative), scaled by gain,
// with Gaussian noise of standard deviation sigma added, total length n.
func delayed(rng *rand.Rand, ref []int16, lag, n int, gain, sigma float64) []int16 {
	out := make([]int16, n)
	for j := range out {
		v := 0.0
		if i := j - lag; i >= 0 && i < len(ref) {
			v = gain * float64(ref[i])
		}
		v += rng.NormFloat64() * sigma
		out[j] = int16(math.Max(-32768, math.Min(32767, math.Round(v))))
	}
	return out
}

func TestFFTMatchesDFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 8, 64} {
		x := make([]complex128, n)
		for i := range x {
			x[i] = complex(rng.Float64()-0.5, rng.Float64()-0.5)
		}
		want := make([]complex128, n)
		for k := range want {
			for j, v := range x {
				want[k] += v * cmplx.Rect(1, -2*math.Pi*float64(j*k)/float64(n))
			}
		}
		got := append([]complex128(nil), x...)
		fft(got, false)
		for k := range want {
			if cmplx.Abs(got[k]-want[k]) > 1e-9 {
				t.Fatalf("n=%d bin %d: fft %v, dft %v", n, k, got[k], want[k])
			}
		}
		fft(got, true)
		for k := range x {
			if cmplx.Abs(got[k]/complex(float64(n), 0)-x[k]) > 1e-9 {
				t.Fatalf("n=%d: inverse does not round-trip at %d", n, k)
			}
		}
	}
}

func TestAlignFindsKnownLag(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ref := noise(rng, 48000, 8000)
	for _, tc := range []struct {
		lag    int
		gain   float64
		sigma  float64
		minCor float64
	}{
		{0, 1, 0, 0.999},
		{1234, 0.7, 0, 0.999},
		{-517, 1.2, 0, 0.999},
		{4800, 0.9, 2000, 0.7}, // about 5 dB SNR: still found
		{37, -1, 0, -2},        // inverted copy: best positive match is elsewhere
	} {
		got := delayed(rng, ref, tc.lag, len(ref)+6000, tc.gain, tc.sigma)
		lag, corr := Align(ref, got, 10000)
		if tc.gain < 0 {
			if lag == tc.lag {
				t.Errorf("inverted copy aligned at its lag with corr %.3f", corr)
			}
			continue
		}
		if lag != tc.lag {
			t.Errorf("lag %d (gain %.1f, noise %.0f): Align found %d", tc.lag, tc.gain, tc.sigma, lag)
		}
		if corr < tc.minCor || corr > 1.000001 {
			t.Errorf("lag %d: corr %.4f, want in [%.3f, 1]", tc.lag, corr, tc.minCor)
		}
	}
}

func TestAlignRespectsMaxLag(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ref := noise(rng, 9600, 8000)
	got := delayed(rng, ref, 3000, 14000, 1, 0)
	if lag, _ := Align(ref, got, 5000); lag != 3000 {
		t.Fatalf("within range: lag %d, want 3000", lag)
	}
	if lag, _ := Align(ref, got, 1000); lag < -1000 || lag > 1000 {
		t.Fatalf("maxLag 1000 returned lag %d", lag)
	}
}

func TestAlignDegenerate(t *testing.T) {
	if lag, corr := Align(nil, []int16{1, 2}, 10); lag != 0 || corr != 0 {
		t.Fatalf("empty ref: %d %v", lag, corr)
	}
	if _, corr := Align(make([]int16, 100), make([]int16, 100), 10); corr != 0 {
		t.Fatalf("silence correlates %v", corr)
	}
}

func TestSNRMatchesAddedNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ref := sine(96000, 440, 10000, 48000)
	refPow := 10000.0 * 10000 / 2
	for _, tc := range []struct {
		gain, sigma float64
		lag         int
	}{
		{1, 1000, 0},
		{0.8, 300, 960},
		{1.1, 3000, -200},
		{0.5, 50, 13},
	} {
		got := delayed(rng, ref, tc.lag, len(ref)+1000, tc.gain, tc.sigma)
		// Rounding to int16 adds uniform noise of variance 1/12.
		want := 10 * math.Log10(tc.gain*tc.gain*refPow/(tc.sigma*tc.sigma+1.0/12))
		if snr := SNR(ref, got, tc.lag); math.Abs(snr-want) > 1 {
			t.Errorf("gain %.1f noise %.0f lag %d: SNR %.2f dB, want %.2f ± 1", tc.gain, tc.sigma, tc.lag, snr, want)
		}
	}
}

func TestSNRMisalignedIsPoor(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	ref := noise(rng, 48000, 8000)
	got := delayed(rng, ref, 100, 49000, 1, 0)
	if good := SNR(ref, got, 100); !math.IsInf(good, 1) {
		t.Fatalf("exact copy: SNR %v, want +Inf", good)
	}
	if bad := SNR(ref, got, 130); bad > 1 {
		t.Fatalf("wrong lag: SNR %.1f dB, want about 0 or below", bad)
	}
	if s := SNR(make([]int16, 10), got, 0); !math.IsInf(s, -1) {
		t.Fatalf("silent reference: SNR %v, want -Inf", s)
	}
	if s := SNR(ref, got, 1_000_000); !math.IsInf(s, -1) {
		t.Fatalf("no overlap: SNR %v, want -Inf", s)
	}
}

func TestDominantFrequency(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, hz := range []float64{100, 440, 550, 1000.5, 3333, 12000} {
		s := sine(48000/2, hz, 8000, 48000)
		if f := DominantFrequency(s, 48000); math.Abs(f-hz) > 1 {
			t.Errorf("%.1f Hz tone: got %.2f", hz, f)
		}
	}
	// A weaker second tone and noise must not move the answer.
	mix := sine(24000, 700, 8000, 48000)
	other := sine(24000, 2000, 3000, 48000)
	for i := range mix {
		mix[i] += other[i] + int16(rng.NormFloat64()*500)
	}
	if f := DominantFrequency(mix, 48000); math.Abs(f-700) > 1 {
		t.Errorf("700 Hz with a 2 kHz tone and noise: got %.2f", f)
	}
	if f := DominantFrequency(sine(8000, 1000, 8000, 16000), 16000); math.Abs(f-1000) > 1 {
		t.Errorf("1 kHz at 16 kHz sampling: got %.2f", f)
	}
	if f := DominantFrequency(make([]int16, 1000), 48000); f != 0 {
		t.Errorf("silence: %v", f)
	}
}

func TestRMS(t *testing.T) {
	if r := RMS(sine(48000, 1000, 32767, 48000)); math.Abs(r-1/math.Sqrt2) > 0.001 {
		t.Errorf("full-scale sine: RMS %.4f", r)
	}
	if r := RMS([]int16{-16384, 16384, -16384, 16384}); r != 0.5 {
		t.Errorf("half-scale square: RMS %v", r)
	}
	if r := RMS(nil); r != 0 {
		t.Errorf("empty: %v", r)
	}
	if d := DBFS(0.5); math.Abs(d+6.0206) > 0.001 {
		t.Errorf("DBFS(0.5) = %v", d)
	}
}

func BenchmarkAlign10s(b *testing.B) {
	rng := rand.New(rand.NewPCG(13, 14))
	ref := noise(rng, 10*48000, 8000)
	got := delayed(rng, ref, 2400, len(ref)+4800, 0.9, 500)
	b.ResetTimer()
	for b.Loop() {
		if lag, _ := Align(ref, got, len(ref)); lag != 2400 {
			b.Fatalf("lag %d", lag)
		}
	}
}
