package relaysim

import (
	"math"
	"math/rand/v2"
	"strings"

	"parley/selection"
)

// World adds effects the estimation model does not assume (benchrelay -world), to
// see how selection does when its model is wrong. The zero value is the base
// world: loss and variability belong to the attachments (which is exactly the
// access-share model), loss is independent per packet, relaying costs no airtime,
// and chosen relays carry no load.
type World uint8

const (
	// WorldPairs gives every pair its own lognormal factor (σ 0.7, median 1) on
	// the queueing, spike chance and loss of its path, so that loss and jitter are
	// a property of the pair, not the sum of two access shares.
	WorldPairs World = 1 << iota
	// WorldBursty makes loss come in bursts (a Gilbert model: no loss in the good
	// state, every packet lost in the bad one, bursts of 4 packets on average, the
	// same mean loss): measurements see it in clumps, and voice suffers more
	// (G.107's BurstR).
	WorldBursty
	// WorldContention makes a Wi-Fi relay pay for the air it shares: a leg
	// between a wireless candidate and an endpoint on the same access point
	// crosses that cell's air twice more when relayed, doubling its queueing,
	// spikes and loss. No record says which cell a peer is on (issue 22 item 5,
	// not done), so no ranking can see it.
	WorldContention
	// WorldLoad makes relays slower as they are chosen: every live decision whose
	// selection picks a candidate takes 256 kbit/s of its spare bandwidth, counts
	// as a relay session it carries (and publishes), and raises its access
	// queueing by 30 % on Wi-Fi (5 % wired). Piling onto one relay is punished.
	WorldLoad
)

var worldNames = []string{"pairs", "bursty", "contention", "load"}

// ParseWorld reads a comma-separated list of pairs, bursty, contention, load
// ("all" for every one).
func ParseWorld(s string) (World, bool) {
	if s == "all" {
		return WorldPairs | WorldBursty | WorldContention | WorldLoad, true
	}
	var k World
	for _, f := range strings.Split(s, ",") {
		if f == "" {
			continue
		}
		i := indexOf(worldNames, f)
		if i < 0 {
			return 0, false
		}
		k |= 1 << i
	}
	return k, true
}

func (k World) String() string {
	var out []string
	for i, n := range worldNames {
		if k&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "base"
	}
	return strings.Join(out, ",")
}

func indexOf(names []string, s string) int {
	for i, n := range names {
		if n == s {
			return i
		}
	}
	return -1
}

// Model switches the estimation model's parts off (benchrelay -model), to compare
// selection with and without them in each world.
type Model uint8

const (
	ModelFull     Model = iota // the protocol
	ModelNoFloor               // no floor under estimated legs
	ModelNoShares              // no access-share model at all (and so no floor)
	ModelNoCells               // peers publish no Wi-Fi cell (no shared-air penalty)
)

var modelNames = []string{"full", "no-floor", "no-shares", "no-cells"}

func (m Model) String() string { return modelNames[m] }

// ParseModel reads full, no-floor, no-shares or no-cells.
func ParseModel(s string) (Model, bool) {
	i := indexOf(modelNames, s)
	return Model(max(i, 0)), i >= 0
}

// weights are the ranking weights for p under the configured model.
func (w *world) weights(p selection.Purpose) selection.Weights {
	wt := selection.DefaultWeights(p)
	wt.NoFloor = w.cfg.Model == ModelNoFloor
	wt.NoAccessShares = w.cfg.Model == ModelNoShares
	return wt
}

const (
	pairSigma       = 0.7  // WorldPairs: lognormal σ of the per-pair factor
	burstLen        = 4.0  // WorldBursty: mean packets per loss burst
	loadQWireless   = 0.3  // WorldLoad: access queueing added per carried session
	loadQWired      = 0.05 //
	loadKbpsSession = 256.0
)

// buildWorld draws what the world's effects need, from a source of its own so
// that the base world's draws (topology, processes) are the same in every world.
func (w *world) buildWorld() {
	if w.cfg.World&WorldPairs == 0 {
		return
	}
	r := rand.New(rand.NewPCG(w.cfg.Seed, 0x9a125))
	n := len(w.nodes)
	w.pairN = make([]float32, n*n)
	for i := range n {
		for j := i + 1; j < n; j++ {
			f := float32(math.Exp(pairSigma * r.NormFloat64()))
			w.pairN[i*n+j], w.pairN[j*n+i] = f, f
		}
	}
}

// pairNoise is the factor on a hop's queueing, spikes and loss (1 in the base world).
func (w *world) pairNoise(h hop) float64 {
	if w.pairN == nil {
		return 1
	}
	return float64(w.pairN[h.x.idx*len(w.nodes)+h.y.idx])
}

// lostOn is how many of a probe interval's packets from n to o are lost: a
// binomial draw, or in the bursty world a run of the link's Gilbert chain.
func (w *world) lostOn(n, o *node, p float64) int {
	if w.cfg.World&WorldBursty == 0 || p <= 0 {
		return w.lost(p)
	}
	if w.burst == nil {
		w.burst = map[uint64]bool{}
	}
	k := uint64(n.idx)<<32 | uint64(o.idx)
	bad := w.burst[k]
	r := 1 / burstLen           // bad → good
	g := math.Min(p*r/(1-p), 1) // good → bad, so that the mean loss is p
	lost := 0
	for range packetsPerProbe {
		if bad {
			bad = w.rnd.Float64() >= r
		} else {
			bad = w.rnd.Float64() < g
		}
		if bad {
			lost++
		}
	}
	w.burst[k] = bad
	return lost
}

// burstRatio is G.107's BurstR for a path losing p: 1/(g + r) in the bursty
// world, 1 (random loss) otherwise.
func (w *world) burstRatio(p float64) float64 {
	if w.cfg.World&WorldBursty == 0 || p <= 0 || p >= 1 {
		return 1
	}
	r := 1 / burstLen
	return 1 / (math.Min(p*r/(1-p), 1) + r)
}

// relayLeg is the truth of the leg between candidate c and endpoint e when c
// relays for e: the path's, plus, in the contention world, the air of a shared
// access point crossed twice more.
func (w *world) relayLeg(c, e *node) legStat {
	s := w.truth(c, e)
	if w.cfg.World&WorldContention == 0 || c == e {
		return s
	}
	for _, ac := range c.att {
		for _, ae := range e.att {
			if ac.wireless && ae.wireless && ac.cell == ae.cell {
				q1, sp1, l1 := w.effective(&ac)
				q2, sp2, l2 := w.effective(&ae)
				s.mean += q1 + q2 + (sp1+sp2)*spikeMean
				s.rttVar *= math.Sqrt2
				s.jitter *= math.Sqrt2
				s.loss = 1 - (1-s.loss)*(1-l1)*(1-l2)
				return s
			}
		}
	}
	return s
}

// carry sets how many live decisions' selection currently picks each node
// (WorldLoad): the load feedback. It changes true paths, so the truth cache is
// dropped when any count changed.
func (ev *evaluator) carry() {
	w := ev.w
	if w.cfg.World&WorldLoad == 0 {
		return
	}
	counts := make([]int, len(w.nodes))
	for _, d := range ev.decisions {
		if !d.active {
			continue
		}
		if id, ok := ev.chooser(d.purpose, Selection).Current(d.key); ok {
			if n := ev.byID[id]; n != nil {
				counts[n.idx]++
			}
		}
	}
	changed := false
	for i, n := range w.nodes {
		if n.carried != counts[i] {
			n.carried = counts[i]
			per := loadQWired
			if n.link == selection.Wireless {
				per = loadQWireless
			}
			for a := range n.att {
				n.att[a].load = per * float64(n.carried)
			}
			changed = true
		}
	}
	if changed {
		w.truthEpoch++
	}
}
