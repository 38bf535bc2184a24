package audio

// linearResampler converts a stream at inRate to SampleRate by straight-line
// interpolation between neighbouring input samples. It is crude (no low-pass filter,
// so downsampling aliases) but it is only used for test and demo WAV files, where a
// simple, exact-length conversion matters more than fidelity.
type linearResampler struct {
	inRate     int
	pos        int // between prev and next, in 1/SampleRate of an input sample
	prev, next int16
	primed     bool
	inputDone  bool // next is a repeat of the last input sample
	done       bool
}

func newLinearResampler(inRate int) *linearResampler {
	return &linearResampler{inRate: inRate}
}

// sample returns the next output sample, pulling input from read as needed.
// Integer positions keep the output length exact however long the stream runs.
func (l *linearResampler) sample(read func() (int16, bool)) (int16, bool) {
	if !l.primed {
		first, ok := read()
		if !ok {
			l.done = true
		}
		l.prev, l.next = first, first
		if s, ok := read(); ok {
			l.next = s
		} else {
			l.inputDone = true
		}
		l.primed = true
	}
	if l.done {
		return 0, false
	}
	v := int(l.prev) + (int(l.next)-int(l.prev))*l.pos/SampleRate
	l.pos += l.inRate
	for l.pos >= SampleRate {
		l.pos -= SampleRate
		if l.inputDone {
			l.done = true
			break
		}
		l.prev = l.next
		if s, ok := read(); ok {
			l.next = s
		} else {
			l.inputDone = true
		}
	}
	return int16(v), true
}
