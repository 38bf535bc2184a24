package relaysim

import (
	"container/heap"
	"slices"
	"time"

	"parley/vivaldi"
)

// Far-peer pings, as the node sends them (linkquality/farping.go): every
// vivaldi.FarPingEvery (±50 %) a peer pings one random online peer it has no link
// to, vivaldi.FarPings times, through the overlay, and moves its coordinate with
// the median. The pings are routed frames, so what they measure is the overlay
// path's RTT (every hop's, plus each relay's forwarding), not the direct one a
// relay session would see; the simulator measures the same, so the coordinates
// it scores are the ones a node would have.
const (
	// overlayHopPenaltyMs is the overlay's per-hop routing penalty
	// (overlay.hopPenalty): the path a routed ping takes is the overlay's.
	overlayHopPenaltyMs = 0.5
	// overlayFwdMs is one relay's forwarding of a routed frame, each way: read,
	// decode the routed header, re-queue and re-encrypt on the next link. An
	// assumption (a Go process on a LAN host, not measured here); it is small
	// next to the hops' own RTTs in every topology.
	overlayFwdMs = 0.2
	// routedPingBytes is a routed ping or pong on each hop's wire: the ping's
	// 44 (probeFrameBytes) plus the routed header (34).
	routedPingBytes = probeFrameBytes + 34
)

// farPingDue sends n's far pings when they are due and schedules the next.
func (w *world) farPingDue(n *node, measuring bool) {
	if n.nextFar == 0 {
		n.nextFar = w.now + w.farPeriod()
		return
	}
	if w.now < n.nextFar {
		return
	}
	n.nextFar = w.now + w.farPeriod()
	o := w.randomFar(n)
	if o == nil {
		return
	}
	path := w.overlayPath(n, o)
	if path == nil {
		return
	}
	var pings [vivaldi.FarPings]float64
	for i := range pings {
		v := 0.0
		prev := n
		for _, x := range path {
			r, _, ok := w.route(prev, x)
			if !ok {
				return
			}
			v += w.sample(r)
			prev = x
		}
		pings[i] = v + 2*overlayFwdMs*float64(len(path)-1)
	}
	slices.Sort(pings[:])
	w.vivaldiUpdate(n, o, pings[len(pings)/2])
	if measuring {
		w.probeBytes += int64(2 * routedPingBytes * len(path) * vivaldi.FarPings)
	}
}

// farPeriod is the next period between two far samples: the node's rule for the
// online count, spread by ±50 %.
func (w *world) farPeriod() time.Duration {
	d := vivaldi.FarPingEvery(w.onlineCount())
	return time.Duration(float64(d) * (0.5 + w.rnd.Float64()))
}

// randomFar is a random online peer n has no overlay link to (nil if none found
// in a few tries, as the node gives up).
func (w *world) randomFar(n *node) *node {
	for range 8 {
		o := w.nodes[w.rnd.IntN(len(w.nodes))]
		if o != n && o.online && !slices.Contains(n.nbrs, o.idx) {
			return o
		}
	}
	return nil
}

// overlayPath is the overlay's shortest path from n to o over online peers' links
// (n excluded, o included), weighted as the overlay weighs them: the link's RTT
// plus the hop penalty. nil when o is unreachable.
func (w *world) overlayPath(n, o *node) []*node {
	dist := make(map[int]float64, 64)
	prev := make(map[int]int, 64)
	q := &pathQueue{{n.idx, 0}}
	dist[n.idx] = 0
	for q.Len() > 0 {
		it := heap.Pop(q).(pathItem)
		if it.d > dist[it.idx] {
			continue
		}
		if it.idx == o.idx {
			break
		}
		u := w.nodes[it.idx]
		for _, j := range u.nbrs {
			v := w.nodes[j]
			if !v.online {
				continue
			}
			d := it.d + w.truth(u, v).mean + overlayHopPenaltyMs
			if old, ok := dist[j]; ok && old <= d {
				continue
			}
			dist[j], prev[j] = d, it.idx
			heap.Push(q, pathItem{j, d})
		}
	}
	if _, ok := dist[o.idx]; !ok {
		return nil
	}
	var path []*node
	for v := o.idx; v != n.idx; v = prev[v] {
		path = append(path, w.nodes[v])
	}
	slices.Reverse(path)
	return path
}

type pathItem struct {
	idx int
	d   float64
}

type pathQueue []pathItem

func (q pathQueue) Len() int { return len(q) }
func (q pathQueue) Less(i, j int) bool {
	if q[i].d != q[j].d {
		return q[i].d < q[j].d
	}
	return q[i].idx < q[j].idx
}
func (q pathQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *pathQueue) Push(x any)   { *q = append(*q, x.(pathItem)) }
func (q *pathQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
