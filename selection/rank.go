package selection

import (
	"math"
	"slices"

	"parley/vivaldi"
)

// Request asks for candidates for one purpose.
type Request struct {
	Purpose Purpose
	// From is the requesting endpoint (may be empty for a mixer chosen on behalf of
	// a group); To are the other endpoints: one for relays, every other participant
	// for a mixer, none when ranking sources for a bulk transfer to From.
	From string
	To   []string
	// Candidates to rank; empty means every online peer except the endpoints
	// (for CallMixer the participants themselves are candidates too: a participant
	// on mains with spare bandwidth is often the best mixer).
	Candidates []string
}

// Ranked is one candidate's cost and why.
type Ranked struct {
	ID    string
	Cost  float64 // ms-equivalent
	Terms Terms   // contributions by term; they sum to Cost
	// Estimated and Unknown count the candidate's legs whose RTT came from Vivaldi
	// coordinates and from nothing at all.
	Estimated, Unknown int
}

// Rank returns the candidates of req in ascending cost, ties broken by ID, so equal
// inputs always give equal output. Offline and unknown candidates are left out. The
// cost of a candidate sums, over each endpoint, the leg between them (see Leg), then
// adds the candidate's own terms (bandwidth, power, link, load, CPU); cm, if not nil,
// adds the administrator's cost of every leg.
func Rank(g *Graph, req Request, w Weights, cm *CostMap) []Ranked {
	x := g.index()
	ends := endpoints(req)
	own := ownLinks(x, g.Own)

	cands := req.Candidates
	if len(cands) == 0 {
		cands = x.online
	}
	out := make([]Ranked, 0, len(cands))
	legs := make([]Leg, len(ends))
	seen := make(map[string]bool, len(req.Candidates))
	for _, id := range cands {
		p, ok := g.Peers[id]
		if !ok || !p.Online {
			continue
		}
		if len(req.Candidates) > 0 {
			if seen[id] {
				continue
			}
			seen[id] = true
		} else if req.Purpose != CallMixer && slices.Contains(ends, id) {
			continue
		}
		r := Ranked{ID: id}
		for i, e := range ends {
			legs[i] = leg(g, x, own, p, e, cm)
			switch legs[i].Source {
			case Estimated:
				r.Estimated++
			case Unknown:
				r.Unknown++
			}
		}
		r.Cost, r.Terms = CandidateCost(w, p, legs)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Ranked) int {
		if c := cmpFloat(a.Cost, b.Cost); c != 0 {
			return c
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// endpoints is From followed by To, without empties and duplicates.
func endpoints(req Request) []string {
	var ends []string
	for _, e := range append([]string{req.From}, req.To...) {
		if e != "" && !slices.Contains(ends, e) {
			ends = append(ends, e)
		}
	}
	return ends
}

// ownLinks indexes the graph's own measurements (few, and fresh on every call).
func ownLinks(x *index, own []LinkInfo) map[[2]string]linkStat {
	if len(own) == 0 {
		return nil
	}
	m := make(map[[2]string]linkStat, len(own))
	for _, l := range own {
		a, b := l.A, l.B
		if a > b {
			a, b = b, a
		}
		m[[2]string{a, b}] = linkFromInfo(l)
	}
	return m
}

// leg builds the leg between candidate c and endpoint e: a measured link if there is
// one (own measurement first), else a Vivaldi estimate with the ends' access shares
// of loss and jitter, else the pessimistic unknown leg.
func leg(g *Graph, x *index, own map[[2]string]linkStat, c PeerInfo, e string, cm *CostMap) Leg {
	if c.ID == e {
		return Leg{Source: Local}
	}
	ep := g.Peers[e]
	var l Leg
	if cm != nil && len(c.Addrs) > 0 && len(ep.Addrs) > 0 {
		l.MapCost, _ = cm.Cost(c.Addrs[0], ep.Addrs[0])
	}
	a, b := c.ID, e
	if a > b {
		a, b = b, a
	}
	s, ok := own[[2]string{a, b}]
	ci, cok := x.pos[c.ID]
	ei, eok := x.pos[e]
	if !ok && cok && eok {
		s, ok = x.links[pairKey(ci, ei)]
	}
	if ok {
		l.RTT, l.RTTVar, l.Jitter, l.Loss, l.Source = s.rtt, s.rttVar, s.jitter, s.loss, Measured
		return l
	}
	var ac, ae accessEst
	if cok {
		ac = x.access[ci]
	}
	if eok {
		ae = x.access[ei]
	}
	l.Loss = 1 - (1-ac.loss)*(1-ae.loss)
	l.RTTVar = math.Sqrt(ac.varSq + ae.varSq)
	l.Jitter = math.Sqrt(ac.jitSq + ae.jitSq)
	if usable(c.Coord) && usable(ep.Coord) {
		l.Source = Estimated
		l.RTT = c.Coord.DistanceMs(ep.Coord)
		l.RelErr = math.Min((c.Coord.Error+ep.Coord.Error)/2, 1)
		return l
	}
	l.Source, l.RTT = Unknown, UnknownRTTMs
	return l
}

func usable(c vivaldi.Coord) bool { return !c.IsZero() && c.Valid() }
