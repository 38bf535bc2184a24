package relaysim

import (
	"math/rand/v2"
	"slices"
	"strings"

	"parley/selection"
)

// Knowledge replaces parts of what the peers know with ground truth, to tell which
// missing information the gap to the oracle comes from (benchrelay -knows). The
// zero value is the real protocol: nothing is replaced.
type Knowledge uint8

const (
	// KnowLoss gives every measured link (published and own) its true loss.
	KnowLoss Knowledge = 1 << iota
	// KnowDelay gives every measured link its true RTT, variation and jitter.
	KnowDelay
	// KnowPeers gives every peer's record its true state now (spare bandwidth, CPU,
	// sessions), instead of the smoothed, rate-limited one it published.
	KnowPeers
	// KnowAllPairs makes every online pair a measured link with its true figures:
	// nothing is estimated from coordinates and access shares.
	KnowAllPairs
	// KnowShortlist probes, before choosing, every leg of the best few candidates
	// whose ranking rested on an estimated leg (as if the requester had them ping
	// the endpoints), and ranks again with those measurements. Not in the node yet:
	// this estimates what it would gain.
	KnowShortlist
)

// shortlist is how many estimated candidates KnowShortlist probes per tick, and
// shortlistPings how many pings each of their legs gets.
const (
	shortlist      = 4
	shortlistPings = 10
)

var knowledgeNames = []string{"loss", "delay", "peers", "pairs", "shortlist"}

// ParseKnowledge reads a comma-separated list of loss, delay, peers, pairs.
func ParseKnowledge(s string) (Knowledge, bool) {
	var k Knowledge
	for _, f := range strings.Split(s, ",") {
		if f == "" {
			continue
		}
		found := false
		for i, n := range knowledgeNames {
			if f == n {
				k |= 1 << i
				found = true
			}
		}
		if !found {
			return 0, false
		}
	}
	return k, true
}

func (k Knowledge) String() string {
	var out []string
	for i, n := range knowledgeNames {
		if k&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ",")
}

// probeShortlist returns ranked again after the legs of its best few candidates
// with an estimated leg were probed (KnowShortlist): shortlistPings pings and their
// pongs on each leg per tick, accumulated in the decision's own estimators for as
// long as the session lasts, as a requester that keeps probing its short list would.
func (w *world) probeShortlist(g *selection.Graph, own []selection.LinkInfo, req selection.Request,
	ranked []selection.Ranked, d *decision, byID map[string]*node) []selection.Ranked {
	if d.probes == nil {
		d.probes = map[uint64]*selection.LinkEstimator{}
	}
	// The probes draw from a source of their own, so that the world (churn, drift,
	// every other measurement) runs exactly as without them and rows compare.
	if w.probeRnd == nil {
		w.probeRnd = rand.New(rand.NewPCG(w.cfg.Seed, 0x5eed))
	}
	worldRnd := w.rnd
	w.rnd = w.probeRnd
	defer func() { w.rnd = worldRnd }()
	probed := 0
	for _, r := range ranked {
		if probed == shortlist {
			break
		}
		if r.Estimated+r.Unknown == 0 {
			continue
		}
		probed++
		c := byID[r.ID]
		for _, e := range d.ends {
			if e == c {
				continue
			}
			rt, s, ok := w.route(c, e)
			if !ok {
				continue
			}
			k := uint64(min(c.idx, e.idx))<<32 | uint64(max(c.idx, e.idx))
			est := d.probes[k]
			if est == nil {
				est = &selection.LinkEstimator{}
				d.probes[k] = est
			}
			for range shortlistPings {
				est.AddRTT(msDur(w.sample(rt)))
			}
			for range 2 * shortlistPings / packetsPerProbe {
				est.AddLoss(w.lost(s.loss), packetsPerProbe)
			}
		}
	}
	if len(d.probes) == 0 {
		return ranked
	}
	extra := slices.Clone(own)
	for k, est := range d.probes {
		a, b := w.nodes[k>>32], w.nodes[uint32(k)]
		if a.online && b.online {
			extra = append(extra, est.Info(a.id, b.id))
		}
	}
	return selection.Rank(g.WithOwn(extra), req, w.weights(d.purpose), nil)
}

// knownGraph is the shared picture g with cfg.Knows applied.
func (w *world) knownGraph(g *selection.Graph, byID map[string]*node) *selection.Graph {
	k := w.cfg.Knows
	out := &selection.Graph{Peers: make(map[string]selection.PeerInfo, len(g.Peers))}
	for id, p := range g.Peers {
		if k&KnowPeers != 0 {
			if n := byID[id]; n != nil {
				t := n.truePeer()
				t.Coord, t.Addrs, t.Cell = p.Coord, p.Addrs, p.Cell
				p = t
			}
		}
		out.Peers[id] = p
	}
	if k&KnowAllPairs != 0 {
		for i, a := range w.nodes {
			if !a.online {
				continue
			}
			for _, b := range w.nodes[i+1:] {
				if b.online {
					out.Links = append(out.Links, trueInfo(a.id, b.id, w.truth(a, b)))
				}
			}
		}
		return out
	}
	out.Links = w.knownLinks(g.Links, byID)
	return out
}

// knownLinks returns links with cfg.Knows applied (a copy; links is not changed).
func (w *world) knownLinks(links []selection.LinkInfo, byID map[string]*node) []selection.LinkInfo {
	k := w.cfg.Knows
	out := make([]selection.LinkInfo, len(links))
	for i, l := range links {
		a, b := byID[l.A], byID[l.B]
		if a != nil && b != nil {
			t := trueInfo(l.A, l.B, w.truth(a, b))
			if k&(KnowLoss|KnowAllPairs) != 0 {
				l.Loss = t.Loss
			}
			if k&(KnowDelay|KnowAllPairs) != 0 {
				l.RTT, l.RTTVar, l.Jitter = t.RTT, t.RTTVar, t.Jitter
			}
		}
		out[i] = l
	}
	return out
}

func trueInfo(a, b string, s legStat) selection.LinkInfo {
	return selection.LinkInfo{A: a, B: b, RTT: msDur(s.mean), RTTVar: msDur(s.rttVar),
		Jitter: msDur(s.jitter), Loss: float32(s.loss)}
}
