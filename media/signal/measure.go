package signal

import (
	"math"
	"math/cmplx"
	"slices"
)

// SNR compares got with ref at lag (as returned by Align) over the samples where
// they overlap, in dB. got is first fitted to ref with the least-squares gain, so a
// codec that changes the level a little is not charged for it as noise; what is left
// after subtracting the scaled reference is the noise. It returns -Inf when there is
// nothing to compare (no overlap or a silent reference) and +Inf for a perfect copy.
func SNR(ref, got []int16, lag int) float64 {
	from, to := overlap(len(ref), len(got), lag)
	var xx, xy, yy float64
	for i := from; i < to; i++ {
		x, y := float64(ref[i]), float64(got[i+lag])
		xx += x * x
		xy += x * y
		yy += y * y
	}
	if xx == 0 {
		return math.Inf(-1)
	}
	g := xy / xx
	signal := g * g * xx
	// Σ(y − g·x)² expanded, so one pass suffices; clamp the rounding just below 0.
	noise := math.Max(0, yy-2*g*xy+g*g*xx)
	if signal == 0 {
		return math.Inf(-1)
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(signal/noise)
}

// RMS is the root-mean-square level of samples as a fraction of full scale
// (0 for silence, about 0.707 for a full-scale sine).
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, v := range samples {
		f := float64(v)
		sum += f * f
	}
	return math.Sqrt(sum/float64(len(samples))) / 32768
}

// ToneLevel is the amplitude of the hz component of samples (recorded at
// sampleRate) as a fraction of full scale: one DFT bin, so a whole number of
// periods in samples (any hz over one second) measures exactly, and other tones
// leak in only slightly.
func ToneLevel(samples []int16, hz float64, sampleRate int) float64 {
	if len(samples) == 0 {
		return 0
	}
	var re, im float64
	for i, v := range samples {
		ph := 2 * math.Pi * hz * float64(i) / float64(sampleRate)
		re += float64(v) * math.Cos(ph)
		im -= float64(v) * math.Sin(ph)
	}
	return 2 * math.Hypot(re, im) / float64(len(samples)) / 32768
}

// MedianToneLevel is the median of ToneLevel over the whole windows of n samples
// in samples (0 if there is none). One bin over a long stretch is coherent: a
// jitter buffer that skips or stretches a frame shifts the tone's phase, and
// the halves before and after the shift cancel. Over a second with such a
// shift, a tone heard at 0.24 of full scale in every 250 ms window read 0.04.
// Windows short enough to hold at most one shift, and the median of them,
// measure what a listener hears; one window that straddles a shift or a
// concealed frame does not decide.
func MedianToneLevel(samples []int16, hz float64, sampleRate, n int) float64 {
	if n <= 0 {
		return 0
	}
	var lv []float64
	for i := 0; i+n <= len(samples); i += n {
		lv = append(lv, ToneLevel(samples[i:i+n], hz, sampleRate))
	}
	if len(lv) == 0 {
		return 0
	}
	slices.Sort(lv)
	return lv[len(lv)/2]
}

// DBFS converts an RMS fraction of full scale to decibels (-Inf for silence).
func DBFS(rms float64) float64 { return 20 * math.Log10(rms) }

// DominantFrequency returns the frequency in Hz of the strongest spectral peak of
// samples, recorded at sampleRate. The mean is removed and a Hann window applied
// first, and the peak is refined between FFT bins by fitting a parabola to the log
// magnitudes, so the estimate is much finer than sampleRate/len(samples). It returns
// 0 for silence or fewer than 4 samples.
func DominantFrequency(samples []int16, sampleRate int) float64 {
	if len(samples) < 4 {
		return 0
	}
	var mean float64
	for _, v := range samples {
		mean += float64(v)
	}
	mean /= float64(len(samples))
	n := nextPow2(len(samples))
	x := make([]complex128, n)
	last := float64(len(samples) - 1)
	for i, v := range samples {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/last)
		x[i] = complex((float64(v)-mean)*w, 0)
	}
	fft(x, false)
	best, bestMag := 0, 0.0
	for k := 1; k < n/2; k++ {
		if m := cmplx.Abs(x[k]); m > bestMag {
			best, bestMag = k, m
		}
	}
	if bestMag == 0 {
		return 0
	}
	delta := 0.0
	if best > 1 && best < n/2-1 {
		a := math.Log(cmplx.Abs(x[best-1]) + 1e-12)
		b := math.Log(bestMag)
		c := math.Log(cmplx.Abs(x[best+1]) + 1e-12)
		if d := a - 2*b + c; d != 0 {
			delta = 0.5 * (a - c) / d
		}
	}
	return (float64(best) + delta) * float64(sampleRate) / float64(n)
}
