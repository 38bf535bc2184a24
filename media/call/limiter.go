package call

// limiter brings a wide sum of voices into int16 range by scaling, not clipping.
//
// Hard clipping a sum of several loud voices is not only loud: it creates
// intermodulation products (2f₁−f₂ and the like) that land on other speakers'
// frequencies, so a mixer that clips sends each participant a trace of their own
// voice. The limiter instead lowers the gain of a whole frame so its peak fits,
// ramping from the previous frame's gain to avoid a step, and recovers slowly
// (release) once the voices get quieter, as broadcast limiters do.
type limiter struct {
	gain float64 // applied at the end of the last frame; 0 means not started (unity)
}

// limiterRelease is how much the gain may rise per 20 ms frame: from half gain
// back to unity in about 200 ms, slow enough not to pump audibly on speech.
const limiterRelease = 0.05

const fullScale = 32767

// apply writes src scaled into dst (equal lengths).
func (l *limiter) apply(dst []int16, src []int32) {
	if l.gain == 0 {
		l.gain = 1
	}
	peak := int32(0)
	for _, v := range src {
		peak = max(peak, v, -v)
	}
	target := 1.0
	if peak > fullScale {
		target = fullScale / float64(peak)
	}
	from, to := l.gain, target
	if to > from {
		to = min(to, from+limiterRelease) // release: slowly
	}
	if from == 1 && to == 1 {
		clip(dst, src) // the common case: nothing to scale
		return
	}
	n := float64(len(src))
	for i, v := range src {
		// Attack within the frame: samples before the ramp ends may still be
		// over full scale; clipping those few is the lesser evil than a step.
		g := from + (to-from)*float64(i+1)/n
		s := int32(float64(v) * g)
		dst[i] = int16(max(-32768, min(fullScale, s)))
	}
	l.gain = to
}
