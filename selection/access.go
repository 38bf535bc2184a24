package selection

import (
	"math"
	"slices"
)

// accessEst is a peer's estimated share of the loss and variability on its paths.
//
// Only a few links per peer are measured; the RTT of every other pair comes from the
// Vivaldi coordinates, but coordinates say nothing about loss or jitter. On a LAN
// those are almost entirely the access link's (the Wi-Fi hop, not the switch), so a
// link's figure is modelled as the sum of its two ends' shares — loss adds, variances
// add — and each peer's share is recovered from all published links ("tomography"):
// share(x) = median over x's links of (link − share(other end)), iterated from half
// of each peer's median link. An unmeasured pair's figure is then share(a)+share(b).
// RTT is split the same way (linearly), not to estimate a pair's RTT — coordinates
// do that better — but as a floor under the coordinates' estimate (estimateFloor).
type accessEst struct {
	loss   float64 // probability
	varSq  float64 // ms², RTT mean deviation squared
	jitSq  float64 // ms², jitter squared
	rtt    float64 // ms, the part of a path's RTT that is this end's
	linked bool
}

const accessRounds = 4

func estimateAccess(n int, links map[uint64]linkStat) []accessEst {
	type edge struct {
		other int
		s     linkStat
	}
	adj := make([][]edge, n)
	keys := make([]uint64, 0, len(links))
	for k := range links {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic float sums
	for _, k := range keys {
		i, j := int(k>>32), int(uint32(k))
		adj[i] = append(adj[i], edge{j, links[k]})
		adj[j] = append(adj[j], edge{i, links[k]})
	}
	fields := []struct {
		get func(linkStat) float64
		set func(*accessEst, float64)
	}{
		{func(s linkStat) float64 { return s.loss }, func(a *accessEst, v float64) { a.loss = v }},
		{func(s linkStat) float64 { return s.rttVar * s.rttVar }, func(a *accessEst, v float64) { a.varSq = v }},
		{func(s linkStat) float64 { return s.jitter * s.jitter }, func(a *accessEst, v float64) { a.jitSq = v }},
		{func(s linkStat) float64 { return s.rtt }, func(a *accessEst, v float64) { a.rtt = v }},
	}
	est := make([]accessEst, n)
	cur := make([]float64, n)
	next := make([]float64, n)
	var buf []float64
	for _, f := range fields {
		for i := range adj {
			buf = buf[:0]
			for _, e := range adj[i] {
				buf = append(buf, f.get(e.s))
			}
			cur[i] = median(buf) / 2
		}
		for range accessRounds {
			for i := range adj {
				buf = buf[:0]
				for _, e := range adj[i] {
					buf = append(buf, f.get(e.s)-cur[e.other])
				}
				next[i] = math.Max(0, median(buf))
			}
			cur, next = next, cur
		}
		// Peers without links get the typical share, not zero: unknown is not perfect.
		buf = buf[:0]
		for i := range adj {
			if len(adj[i]) > 0 {
				buf = append(buf, cur[i])
			}
		}
		typical := median(buf)
		for i := range adj {
			v := cur[i]
			if len(adj[i]) == 0 {
				v = typical
			}
			f.set(&est[i], v)
			est[i].linked = len(adj[i]) > 0
		}
	}
	return est
}

// median sorts v in place; 0 for empty input.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}
