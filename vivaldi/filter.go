package vivaldi

import (
	"slices"
	"time"
)

// FilterSize is the window of a Filter: a median of 5 ignores up to two outliers in
// a row, while a real RTT change shows through after three samples.
const FilterSize = 5

// Filter is a moving median of RTT samples from one peer, to feed Update with. The
// zero Filter is empty and ready.
type Filter struct {
	buf  [FilterSize]time.Duration
	n    int
	next int
}

// Add records a sample and returns the median of the window (the lower middle one
// while the window holds an even number of samples).
func (f *Filter) Add(rtt time.Duration) time.Duration {
	f.buf[f.next] = rtt
	f.next = (f.next + 1) % FilterSize
	if f.n < FilterSize {
		f.n++
	}
	var s [FilterSize]time.Duration
	w := s[:f.n]
	copy(w, f.buf[:f.n])
	slices.Sort(w)
	return w[(f.n-1)/2]
}
