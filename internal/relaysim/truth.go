package relaysim

import (
	"math"

	"parley/selection"
)

// Ground truth. A path sample between two attachments in one segment is
//
//	f·(base_x + base_y + core) + Exp(q_x) + Exp(q_y) + spike_x + spike_y
//
// where core is the planar distance between their cells, f the pair's non-metric
// factor, q and the spike chance scaled by the cell's interference, and a spike is
// U(10, 60) ms with that chance. Paths between segments go through the online bridge
// with the lowest mean, plus its forwarding delay.
//
// The truth of a path is what the peers' estimators would converge to with
// unlimited samples: the mean RTT (SRTT), the mean absolute deviation from it (what
// RFC 6298's RTTVAR tracks) and the mean absolute difference of consecutive samples
// (RFC 3550 jitter), and the loss. The last three have no exact closed form for this
// mixture; the approximations below are checked against the estimators themselves in
// TestTruthMatchesEstimators.

// legStat is the truth of one path.
type legStat struct {
	mean, rttVar, jitter, loss float64
}

// asLeg is the truth as selection's cost function takes it.
func (s legStat) asLeg() selection.Leg {
	return selection.Leg{RTT: s.mean, RTTVar: s.rttVar, Jitter: s.jitter, Loss: s.loss, Source: selection.Measured}
}

// noise is the random part of a path: the queueing scale and spike chance of each
// attachment it crosses.
type noise struct {
	q, p [4]float64
	n    int
}

func (z *noise) add(q, p float64) {
	z.q[z.n], z.p[z.n] = q, p
	z.n++
}

// laplaceAbs is E|L₁+L₂| for independent Laplace variables of scales a and b (the
// difference of two samples of Exp(a) is Laplace(a)).
func laplaceAbs(a, b float64) float64 {
	if a+b == 0 {
		return 0
	}
	return (a*a + a*b + b*b) / (a + b)
}

// stats turns the noise into RTT variation and jitter.
func (z *noise) stats() (rttVar, jitter float64) {
	var sigmaSq, spikeMass, lap2 float64
	noSpike, noSpikePair := 1.0, 1.0
	for i := 0; i < z.n; i++ {
		sigmaSq += z.q[i] * z.q[i]
		spikeMass += z.p[i] * spikeMean
		noSpike *= 1 - z.p[i]
		noSpikePair *= (1 - z.p[i]) * (1 - z.p[i])
	}
	for i := 0; i+1 < z.n; i += 2 { // per hop: its two ends
		l := laplaceAbs(z.q[i], z.q[i+1])
		lap2 += l * l
	}
	lap := math.Sqrt(lap2)
	// Without a spike in either sample the difference is the Laplace sum; with one
	// it is dominated by the spike's size (mean 35 ms, less when both samples spike).
	jitter = noSpikePair*lap + (1-noSpikePair)*math.Hypot(spikeDiff, lap)
	// Deviation from the mean: samples without a spike sit below it by the spike
	// mass; samples with one sit about a spike above.
	mad := rttVarPerSigma * math.Sqrt(sigmaSq)
	rttVar = noSpike*math.Hypot(mad, spikeMass) + (1-noSpike)*math.Hypot(spikeMean-spikeMass, mad)
	return rttVar, jitter
}

const (
	rttVarPerSigma = 0.7978845608 // √(2/π): mean absolute deviation of a normal per σ
	spikeDiff      = 33.0         // ms: typical |difference| when one sample spiked
)

// hop is the route's segment between two attachments.
type hop struct {
	x, y   *node
	ax, ay *attach
}

// route is how x reaches y: one hop, or two through a bridge.
type route struct {
	hops [2]hop
	n    int
}

// effective returns an attachment's queueing, spike chance and loss under its
// cell's current interference.
func (w *world) effective(a *attach) (q, spikeP, loss float64) {
	if !a.wireless {
		return a.q * (1 + a.load), a.spikeP, a.loss
	}
	m := w.cells[a.cell].mult
	return a.q * m * (1 + a.load), math.Min(a.spikeP*m, 0.3), math.Min(a.loss*m, 0.2)
}

// hopEffective is effective with the pair's own factor (WorldPairs) applied.
func (w *world) hopEffective(h hop, a *attach) (q, spikeP, loss float64) {
	q, spikeP, loss = w.effective(a)
	if f := w.pairNoise(h); f != 1 {
		q, spikeP, loss = q*f, math.Min(spikeP*f, 0.3), math.Min(loss*f, 0.3)
	}
	return q, spikeP, loss
}

func (w *world) baseRTT(h hop) float64 {
	cx, cy := &w.cells[h.ax.cell], &w.cells[h.ay.cell]
	dx, dy := cx.x-cy.x, cx.y-cy.y
	core := math.Sqrt(dx*dx + dy*dy)
	f := float64(w.pairF[h.x.idx*len(w.nodes)+h.y.idx])
	return f * (h.ax.base + h.ay.base + core)
}

// hopMean returns a hop's mean RTT and loss and adds its noise to z.
func (w *world) hopMean(h hop, z *noise) (mean, loss float64) {
	mean = w.baseRTT(h)
	delivered := 1.0
	for _, a := range [2]*attach{h.ax, h.ay} {
		q, sp, l := w.hopEffective(h, a)
		mean += q + sp*spikeMean
		delivered *= 1 - l
		z.add(q, sp)
	}
	return mean, 1 - delivered
}

func (w *world) stat(r route) legStat {
	var z noise
	var s legStat
	delivered := 1.0
	for i := range r.n {
		m, l := w.hopMean(r.hops[i], &z)
		s.mean += m
		delivered *= 1 - l
	}
	if r.n == 2 {
		s.mean += fwdMs
	}
	s.loss = 1 - delivered
	s.rttVar, s.jitter = z.stats()
	return s
}

// direct is the single hop with the lowest mean between x and y, if they share a
// segment, and that mean.
func (w *world) direct(x, y *node) (hop, float64, bool) {
	var best hop
	bm := math.Inf(1)
	found := false
	for i := range x.att {
		for j := range y.att {
			if x.att[i].seg != y.att[j].seg {
				continue
			}
			h := hop{x, y, &x.att[i], &y.att[j]}
			var z noise
			if m, _ := w.hopMean(h, &z); m < bm {
				best, bm, found = h, m, true
			}
		}
	}
	return best, bm, found
}

// route finds how x reaches y now and the truth of that path. ok is false only if
// no bridge is online, which the pinned bridge prevents.
func (w *world) route(x, y *node) (route, legStat, bool) {
	if h, _, ok := w.direct(x, y); ok {
		r := route{hops: [2]hop{h}, n: 1}
		return r, w.stat(r), true
	}
	var best route
	bm := math.Inf(1)
	found := false
	for _, bi := range w.bridges {
		b := w.nodes[bi]
		if !b.online {
			continue
		}
		h1, m1, ok1 := w.direct(x, b)
		h2, m2, ok2 := w.direct(b, y)
		if ok1 && ok2 && m1+m2 < bm {
			best, bm, found = route{hops: [2]hop{h1, h2}, n: 2}, m1+m2, true
		}
	}
	if !found {
		return best, legStat{}, false
	}
	return best, w.stat(best), true
}

// truth is the true path statistics between x and y (zero for x == y). Paths only
// change when a cell's interference or a bridge's presence does (truthEpoch), so
// they are cached per pair until then.
func (w *world) truth(x, y *node) legStat {
	if x == y {
		return legStat{}
	}
	if w.truthCache == nil || w.truthCacheEpoch != w.truthEpoch {
		w.truthCache = make(map[uint64]legStat, len(w.nodes)*4)
		w.truthCacheEpoch = w.truthEpoch
	}
	i, j := x.idx, y.idx
	if i > j {
		i, j = j, i
	}
	k := uint64(i)<<32 | uint64(j)
	if s, ok := w.truthCache[k]; ok {
		return s
	}
	_, s, _ := w.route(x, y)
	w.truthCache[k] = s
	return s
}

// sample draws one RTT sample (ms) along r.
func (w *world) sample(r route) float64 {
	var v float64
	for i := range r.n {
		h := r.hops[i]
		v += w.baseRTT(h)
		for _, a := range [2]*attach{h.ax, h.ay} {
			q, sp, _ := w.hopEffective(h, a)
			v += q * w.rnd.ExpFloat64()
			if sp > 0 && w.rnd.Float64() < sp {
				v += 10 + 50*w.rnd.Float64()
			}
		}
	}
	if r.n == 2 {
		v += fwdMs
	}
	return v
}

// trueCost is what choosing candidate c for endpoints ends really costs under w,
// by the same cost function Rank uses, fed with ground truth.
func (w *world) trueCost(wt selection.Weights, c *node, ends []*node) float64 {
	legs := w.legBuf[:0]
	for _, e := range ends {
		if e == c {
			legs = append(legs, selection.Leg{Source: selection.Local})
			continue
		}
		legs = append(legs, w.relayLeg(c, e).asLeg())
	}
	w.legBuf = legs
	cost, _ := selection.CandidateCost(wt, c.truePeer(), legs)
	return cost
}
