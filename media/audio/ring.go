package audio

// ring is a fixed-size FIFO of samples that overwrites its oldest samples when full.
// It sits between a device callback (a real-time thread that must never wait) and the
// Go side; the device types guard it with their mutex.
type ring struct {
	buf     []int16
	start   int // index of the oldest sample
	n       int // samples held
	dropped uint64
}

func newRing(capacity int) *ring { return &ring{buf: make([]int16, capacity)} }

// write appends src, discarding the oldest samples to make room; it returns how many
// were discarded.
func (q *ring) write(src []int16) int {
	lost := 0
	if len(src) > len(q.buf) {
		lost += len(src) - len(q.buf)
		src = src[len(src)-len(q.buf):]
	}
	if over := q.n + len(src) - len(q.buf); over > 0 {
		q.start = (q.start + over) % len(q.buf)
		q.n -= over
		lost += over
	}
	end := (q.start + q.n) % len(q.buf)
	c := copy(q.buf[end:], src)
	copy(q.buf, src[c:])
	q.n += len(src)
	q.dropped += uint64(lost)
	return lost
}

// read moves up to len(dst) of the oldest samples into dst and returns the count.
func (q *ring) read(dst []int16) int {
	k := min(len(dst), q.n)
	c := copy(dst[:k], q.buf[q.start:min(q.start+k, len(q.buf))])
	copy(dst[c:k], q.buf)
	q.start = (q.start + k) % len(q.buf)
	q.n -= k
	return k
}

func (q *ring) len() int { return q.n }
