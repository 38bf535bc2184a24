// Package bufpool recycles the large buffers that carry bulk frames (file
// chunks), so a transfer at hundreds of MB/s does not allocate, zero and
// garbage-collect a fresh 256 KiB buffer per chunk on each end.
//
// Buffers come in size classes of 2^k + Slack bytes (64 KiB to 1 MiB, plus
// room for a frame header, a chunk header or a seal envelope's overhead), so a
// 256 KiB chunk with its headers fits the 256 KiB class. Only a buffer Get
// handed out comes back into the pool: Put accepts exactly the class
// capacities and drops anything else (a slice into the middle of a buffer,
// a buffer someone else allocated), so a mistaken Put of a foreign slice can
// cost at most the pooling, never another user's data.
//
// The rule callers must keep: after Put, nothing may touch the buffer or any
// slice of it. Pooling is opt-in on the receiving side: a buffer that is never
// Put is simply collected.
package bufpool

import (
	"math/bits"
	"sync"
)

const (
	// Min is the smallest request served from the pool; smaller buffers are
	// cheap to allocate and are not pooled.
	Min = 64 << 10
	// Slack is what each class holds beyond its power of two.
	Slack = 4 << 10

	minShift = 16 // Min = 1 << minShift
	maxShift = 20 // 1 MiB, overlay.MaxFrame
)

var pools [maxShift - minShift + 1]sync.Pool

// class returns the index of the smallest class holding n bytes, or -1.
func class(n int) int {
	if n < Min || n > 1<<maxShift+Slack {
		return -1
	}
	k := minShift
	if n > 1<<minShift+Slack {
		k = bits.Len(uint(n - Slack - 1)) // smallest k with 1<<k >= n-Slack
	}
	return k - minShift
}

func classCap(c int) int { return 1<<(c+minShift) + Slack }

// Get returns a buffer of length n. Its contents are arbitrary (not zeroed):
// the caller must overwrite all n bytes before reading any.
func Get(n int) []byte {
	c := class(n)
	if c < 0 {
		return make([]byte, n)
	}
	if p, _ := pools[c].Get().(*[]byte); p != nil {
		return (*p)[:n]
	}
	return make([]byte, n, classCap(c))
}

// Put returns a buffer Get handed out to the pool. Buffers of any other
// capacity are dropped. The caller must not use b, or any slice of it, again.
func Put(b []byte) {
	c := class(cap(b))
	if c < 0 || cap(b) != classCap(c) {
		return
	}
	b = b[:0]
	pools[c].Put(&b)
}
