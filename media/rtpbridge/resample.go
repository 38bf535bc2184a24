package rtpbridge

// Resampling between G.711's 8 kHz and the calls' 48 kHz, an exact factor
// of 6. Down: each output sample is the mean of 6 inputs (a boxcar low-pass:
// its first null at 8 kHz, −3.9 dB at 3.4 kHz, the top of telephone band);
// content above 4 kHz that it lets through is what a phone cannot carry
// anyway. Up: linear interpolation between neighbouring samples, carrying
// the last sample of the previous packet so packet edges do not click.

const ratio = 6 // 48000 / 8000

// down48to8 writes len(src)/6 samples to dst.
func down48to8(dst []int16, src []int16) {
	for i := range dst {
		sum := 0
		for _, s := range src[i*ratio : i*ratio+ratio] {
			sum += int(s)
		}
		dst[i] = int16(sum / ratio)
	}
}

// upsampler interpolates 8 kHz to 48 kHz, remembering the last input.
type upsampler struct{ last int16 }

// up writes 6×len(src) samples to dst.
func (u *upsampler) up(dst []int16, src []int16) {
	prev := int(u.last)
	for i, s := range src {
		cur := int(s)
		for k := range ratio {
			dst[i*ratio+k] = int16(prev + (cur-prev)*(k+1)/ratio)
		}
		prev = cur
	}
	if len(src) > 0 {
		u.last = src[len(src)-1]
	}
}
