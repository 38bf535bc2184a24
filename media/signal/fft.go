package signal

import (
	"math"
	"math/bits"
)

// fft transforms x in place (len a power of two). inverse computes the unscaled
// inverse transform; the caller divides by len(x) if it needs true amplitudes.
func fft(x []complex128, inverse bool) {
	n := len(x)
	if n <= 1 {
		return
	}
	shift := 64 - bits.TrailingZeros(uint(n))
	for i := range x {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if j > i {
			x[i], x[j] = x[j], x[i]
		}
	}
	sign := -1.0
	if inverse {
		sign = 1
	}
	// Twiddles for the largest stage; smaller stages take every k-th of them, so
	// sin/cos run n/2 times in all rather than once per butterfly.
	tw := make([]complex128, n/2)
	for k := range tw {
		s, c := math.Sincos(sign * 2 * math.Pi * float64(k) / float64(n))
		tw[k] = complex(c, s)
	}
	for size := 2; size <= n; size <<= 1 {
		half, step := size/2, n/size
		for start := 0; start < n; start += size {
			for k := 0; k < half; k++ {
				w := tw[k*step]
				a, b := x[start+k], x[start+k+half]*w
				x[start+k], x[start+k+half] = a+b, a-b
			}
		}
	}
}

// nextPow2 is the smallest power of two ≥ n (and ≥ 1).
func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}
