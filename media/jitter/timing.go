package jitter

import (
	"math"
	"time"
)

// transitMin tracks the smallest transit offset over a sliding window of arrival
// time, in fixed buckets: the minimum of each bucket, and a bucket is forgotten once
// the window has moved past it.
type transitMin struct {
	b [minBuckets]struct {
		idx int64
		min int64
		ok  bool
	}
}

// add records transit d (ns) for a packet arriving at arrival (ns) and returns the
// minimum over the window ending at that arrival.
func (m *transitMin) add(arrival, d int64) int64 {
	w := int64(minBucketWidth)
	idx := floorDiv(arrival, w)
	slot := &m.b[mod(idx, minBuckets)]
	if !slot.ok || slot.idx != idx {
		slot.idx, slot.min, slot.ok = idx, d, true
	} else if d < slot.min {
		slot.min = d
	}
	best := d
	for _, s := range m.b {
		if s.ok && s.idx > idx-minBuckets && s.idx < idx+minBuckets && s.min < best {
			best = s.min
		}
	}
	return best
}

func (m *transitMin) reset() { *m = transitMin{} }

// timing holds the buffer's view of the network: the fastest path, the RFC 3550
// jitter estimate and the delay peak the target follows.
type timing struct {
	min        transitMin
	dmin       int64 // ns
	lastD      int64
	haveLast   bool
	jitter     float64 // ns, RFC 3550 estimator
	peak       float64 // ns above dmin
	peakAt     int64   // arrival (ns) of the last raise
	decayedAt  int64   // now (ns) of the last decay step
	target     int64   // ns
	minT, maxT int64
}

// observe takes one packet's arrival and transit and returns its delay above the
// fastest path.
func (t *timing) observe(arrival, d int64) int64 {
	if t.haveLast {
		// J += (|D| − J)/16, D the change in transit between consecutive arrivals.
		diff := math.Abs(float64(d - t.lastD))
		t.jitter += (diff - t.jitter) / 16
	}
	t.lastD, t.haveLast = d, true
	t.dmin = t.min.add(arrival, d)
	excess := d - t.dmin
	t.raise(float64(excess), arrival)
	return excess
}

// raise lifts the peak (and so the target) to at least v at once. The peak is
// capped at the largest target, so that after an extreme spike the decay starts from
// there instead of spending seconds above it with no effect.
func (t *timing) raise(v float64, at int64) {
	v = min(v, float64(t.maxT))
	if v > t.peak {
		t.peak = v
		t.peakAt = at
		t.decayedAt = at
	}
	t.update()
}

// decay lets the peak fall off exponentially once it has held for peakHold.
func (t *timing) decay(now int64) {
	from := max(t.decayedAt, t.peakAt+int64(peakHold))
	if now > from {
		t.peak *= math.Exp(-float64(now-from) / float64(peakTau))
		t.decayedAt = now
	}
	t.update()
}

func (t *timing) update() {
	t.target = min(max(int64(t.peak+t.jitter), t.minT), t.maxT)
}

// restart forgets the path (a new timeline) but keeps what was learnt about jitter:
// the network did not get better because the sender restarted.
func (t *timing) restart() {
	t.min.reset()
	t.haveLast = false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func mod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// clampDur keeps caller-supplied times within ±2^55 ns (over a year) of the epoch,
// so that no arithmetic on them can overflow whatever time.Time values arrive.
func clampDur(d time.Duration) int64 {
	const lim = int64(1) << 55
	return min(max(int64(d), -lim), lim)
}
