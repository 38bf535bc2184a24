package webbridge

import (
	"parley/media/audio"
)

// frameQueue holds decoded inbound audio as whole 20 ms frames: a ring of
// fixed buffers (no allocation per packet) plus the partial frame being filled,
// so a browser sending 10 or 60 ms packets still comes out as 20 ms frames.
// Not safe for concurrent use; the Bridge guards it.
type frameQueue struct {
	ring       [][]int16
	head, n    int
	part       []int16 // samples of the next frame, len < FrameSamples
	keep       int     // depth latency trimming leaves
	reads      int     // reads in the current trimming window
	minDepth   int     // least depth seen at a read in the window
	dropped    uint64  // oldest frames dropped by a full ring
	trimmed    uint64  // frames dropped to bring latency down
	silent     uint64  // reads that found nothing queued
	frames     uint64  // frames handed out
	sinceRead  int     // frames completed since the last read
	windowSize int
}

// trimWindow is how many reads (1 s at 20 ms) the queue must stay deeper than
// keep before the excess is dropped. A browser whose clock runs faster than
// ours, or a burst after a stall, would otherwise leave the delay it built up
// for the rest of the call; a second of being too deep is not jitter.
const trimWindow = 50

func newFrameQueue(size, keep int) *frameQueue {
	q := &frameQueue{ring: make([][]int16, size), part: make([]int16, 0, audio.FrameSamples), keep: keep, windowSize: trimWindow}
	for i := range q.ring {
		q.ring[i] = make([]int16, audio.FrameSamples)
	}
	q.minDepth = size
	return q
}

// push appends decoded samples, completing frames as they fill.
func (q *frameQueue) push(pcm []int16) {
	for len(pcm) > 0 {
		take := min(len(pcm), audio.FrameSamples-len(q.part))
		q.part = append(q.part, pcm[:take]...)
		pcm = pcm[take:]
		if len(q.part) == audio.FrameSamples {
			q.enqueue(q.part)
			q.part = q.part[:0]
		}
	}
}

func (q *frameQueue) enqueue(f []int16) {
	if q.n == len(q.ring) {
		q.head = (q.head + 1) % len(q.ring)
		q.n--
		q.dropped++
	}
	copy(q.ring[(q.head+q.n)%len(q.ring)], f)
	q.n++
	q.sinceRead++
}

// drop discards the k oldest frames as latency trimming.
func (q *frameQueue) drop(k int) {
	k = min(k, q.n)
	q.head = (q.head + k) % len(q.ring)
	q.n -= k
	q.trimmed += uint64(k)
}

// pop fills dst with the oldest frame, or silence when none is queued, and
// reports whether it was audio from the browser.
//
// Nobody reads between calls, and the ring fills with old audio; the first
// read after a whole ring's worth of frames went unread starts from the
// newest keep frames instead, so a call does not begin 200 ms late.
func (q *frameQueue) pop(dst []int16) bool {
	if q.sinceRead >= len(q.ring) {
		q.drop(q.n - q.keep)
	}
	q.sinceRead = 0
	q.minDepth = min(q.minDepth, q.n)
	if q.reads++; q.reads == q.windowSize {
		if q.minDepth > q.keep {
			q.drop(q.minDepth - q.keep)
		}
		q.reads, q.minDepth = 0, len(q.ring)
	}
	if q.n == 0 {
		clear(dst)
		q.silent++
		return false
	}
	copy(dst, q.ring[q.head])
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	q.frames++
	return true
}

// reset forgets what is queued (a new stream: its audio does not continue
// the old one's).
func (q *frameQueue) reset() {
	q.head, q.n, q.sinceRead = 0, 0, 0
	q.part = q.part[:0]
}
