package signal

import "math"

// Align finds the lag at which got best matches ref: got[i+lag] ≈ ref[i], so a
// positive lag means got is delayed. Only lags with |lag| ≤ maxLag are considered.
// The lag is the one with the largest cross-correlation; corr is the normalised
// correlation there (1 for an exact, possibly scaled copy; near 0 for no match).
//
// The correlation is computed for all lags at once with an FFT, O(n log n). A
// periodic signal such as a pure tone matches equally well a whole period either
// side, so tests that care about the exact lag should use noise or speech.
func Align(ref, got []int16, maxLag int) (lag int, corr float64) {
	if len(ref) == 0 || len(got) == 0 || maxLag < 0 {
		return 0, 0
	}
	n := nextPow2(len(ref) + len(got))
	a := make([]complex128, n)
	b := make([]complex128, n)
	for i, v := range ref {
		a[i] = complex(float64(v), 0)
	}
	for i, v := range got {
		b[i] = complex(float64(v), 0)
	}
	fft(a, false)
	fft(b, false)
	for i := range a {
		re, im := real(a[i]), -imag(a[i]) // conj(A)·B gives Σ ref[i]·got[i+k]
		a[i] = complex(re, im) * b[i]
	}
	fft(a, true)

	lo := max(-maxLag, -(len(ref) - 1))
	hi := min(maxLag, len(got)-1)
	best, bestVal := 0, math.Inf(-1)
	for l := lo; l <= hi; l++ {
		idx := l
		if l < 0 {
			idx = n + l
		}
		if v := real(a[idx]); v > bestVal {
			best, bestVal = l, v
		}
	}
	refE, gotE := overlapEnergy(ref, got, best)
	if refE == 0 || gotE == 0 {
		return best, 0
	}
	return best, bestVal / float64(n) / math.Sqrt(refE*gotE)
}

// overlapEnergy sums the squares of ref and got over the samples that overlap at lag.
func overlapEnergy(ref, got []int16, lag int) (refE, gotE float64) {
	from, to := overlap(len(ref), len(got), lag)
	for i := from; i < to; i++ {
		x, y := float64(ref[i]), float64(got[i+lag])
		refE += x * x
		gotE += y * y
	}
	return refE, gotE
}

// overlap is the range of ref indices i for which got[i+lag] exists.
func overlap(nRef, nGot, lag int) (from, to int) {
	from = max(0, -lag)
	to = min(nRef, nGot-lag)
	if to < from {
		to = from
	}
	return from, to
}
