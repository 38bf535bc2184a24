package selection

import (
	"math"
	"slices"
	"strings"

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
	// Own counts the relay sessions the requester itself has on a candidate now
	// (its own calls' relays). A candidate's published RelaySessions includes
	// them, and Rank takes them off: a relay must not look loaded by the very
	// session that is choosing it, or every chooser pushes its own session off
	// whichever relay it sits on (the live lab's flaps, docs/relay-selection.md).
	Own map[string]int
}

// Ranked is one candidate's cost and why.
type Ranked struct {
	ID    string
	Cost  float64 // ms-equivalent
	Terms Terms   // contributions by term; they sum to Cost
	// Estimated and Unknown count the candidate's legs whose RTT came from Vivaldi
	// coordinates and from nothing at all.
	Estimated, Unknown int
	// SharedAir counts the legs to endpoints on the candidate's own Wi-Fi access
	// point, which cost that air again (published cells, sharedAir).
	SharedAir int
}

// Rank returns the candidates of req in ascending cost, ties broken by ID, so equal
// inputs always give equal output. Offline and unknown candidates are left out. The
// cost of a candidate sums, over each endpoint, the leg between them (see Leg), then
// adds the candidate's own terms (bandwidth, power, link, load, CPU); cm, if not nil,
// adds the administrator's cost of every leg.
func Rank(g *Graph, req Request, w Weights, cm *CostMap) []Ranked {
	x := g.index()
	ends := resolveEnds(g, x, endpoints(req), g.Own)

	cands := req.Candidates
	if len(cands) == 0 {
		cands = x.online
	}
	out := make([]Ranked, 0, len(cands))
	legs := make([]Leg, len(ends))
	var seen map[string]bool
	if len(req.Candidates) > 0 {
		seen = make(map[string]bool, len(req.Candidates))
	}
	for _, id := range cands {
		p, ok := g.Peers[id]
		if !ok || !p.Online {
			continue
		}
		if seen != nil {
			if seen[id] {
				continue
			}
			seen[id] = true
		} else if req.Purpose != CallMixer && isEnd(ends, id) {
			continue
		}
		if own := req.Own[id]; own > 0 {
			p.RelaySessions -= uint16(min(own, int(p.RelaySessions)))
		}
		ci, cok := x.pos[id]
		if !cok {
			ci = -1
		}
		r := Ranked{ID: id}
		for i := range ends {
			legs[i] = leg(x, p, ci, &ends[i], cm, w)
			switch legs[i].Source {
			case Estimated:
				r.Estimated++
			case Unknown:
				r.Unknown++
			}
			if legs[i].SharedAir {
				r.SharedAir++
			}
		}
		r.Cost, r.Terms = CandidateCost(w, p, legs)
		out = append(out, r)
	}
	return sortRanked(out)
}

// sortRanked orders by cost then ID. It sorts small keys and permutes once:
// a Ranked is large, and swapping it around dominated ranking time.
func sortRanked(rs []Ranked) []Ranked {
	type key struct {
		cost float64
		id   string
		i    int
	}
	keys := make([]key, len(rs))
	for i, r := range rs {
		keys[i] = key{r.Cost, r.ID, i}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmpFloat(a.cost, b.cost); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	out := make([]Ranked, len(rs))
	for i, k := range keys {
		out[i] = rs[k.i]
	}
	return out
}

// end is an endpoint with everything a leg to it needs, looked up once per Rank.
type end struct {
	id   string
	peer PeerInfo
	pos  int // in the index, -1 if absent
	acc  accessEst
	// own are this node's measurements between the endpoint and other peers.
	own map[string]linkStat
}

func resolveEnds(g *Graph, x *index, ids []string, own []LinkInfo) []end {
	ends := make([]end, len(ids))
	for i, id := range ids {
		e := end{id: id, peer: g.Peers[id], pos: -1}
		if p, ok := x.pos[id]; ok {
			e.pos, e.acc = p, x.access[p]
		}
		for _, l := range own {
			var other string
			switch id {
			case l.A:
				other = l.B
			case l.B:
				other = l.A
			default:
				continue
			}
			if e.own == nil {
				e.own = map[string]linkStat{}
			}
			e.own[other] = linkFromInfo(l)
		}
		ends[i] = e
	}
	return ends
}

func isEnd(ends []end, id string) bool {
	for i := range ends {
		if ends[i].id == id {
			return true
		}
	}
	return false
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

// leg builds the leg between candidate c (at index position ci, -1 if absent) and
// endpoint e: a measured link if there is one (own measurement first), else a
// Vivaldi estimate with the ends' access shares of loss and jitter, else the
// pessimistic unknown leg.
func leg(x *index, c PeerInfo, ci int, e *end, cm *CostMap, w Weights) Leg {
	if c.ID == e.id {
		return Leg{Source: Local}
	}
	var l Leg
	if cm != nil && len(c.Addrs) > 0 && len(e.peer.Addrs) > 0 {
		l.MapCost, _ = cm.Cost(c.Addrs[0], e.peer.Addrs[0])
	}
	s, ok := e.own[c.ID]
	if !ok && ci >= 0 && e.pos >= 0 {
		s, ok = x.links[pairKey(ci, e.pos)]
	}
	var ac accessEst
	if ci >= 0 && !w.NoAccessShares {
		ac = x.access[ci]
	}
	ae := e.acc
	if w.NoAccessShares {
		ae = accessEst{}
	}
	cell := c.Cell != 0 && c.Cell == e.peer.Cell
	if ok {
		l.RTT, l.RTTVar, l.Jitter, l.Loss, l.Source = s.rtt, s.rttVar, s.jitter, s.loss, Measured
		if ac.linked && ae.linked {
			l.Loss = (1-lossShrink)*s.loss + lossShrink*(1-(1-ac.loss)*(1-ae.loss))
		}
		if cell {
			sharedAir(&l, ac, ae)
		}
		return l
	}
	l.Loss = 1 - (1-ac.loss)*(1-ae.loss)
	l.RTTVar = math.Sqrt(ac.varSq + ae.varSq)
	l.Jitter = math.Sqrt(ac.jitSq + ae.jitSq)
	if usable(c.Coord) && usable(e.peer.Coord) {
		l.Source = Estimated
		l.RTT = c.Coord.DistanceMs(e.peer.Coord)
		if ac.linked && ae.linked && !w.NoFloor {
			l.RTT = math.Max(l.RTT, estimateFloor*(ac.rtt+ae.rtt))
		}
		l.RelErr = math.Min((c.Coord.Error+e.peer.Coord.Error)/2, 1)
		if cell {
			sharedAir(&l, ac, ae)
		}
		return l
	}
	l.Source, l.RTT = Unknown, UnknownRTTMs
	return l
}

// sharedAir makes l the leg between two peers on one Wi-Fi access point (their
// published cells match) when one relays for the other: the relayed traffic
// crosses that air twice more than through a relay elsewhere, and a cell's
// airtime is shared, so the two ends' access shares (the air's part of RTT,
// variation, jitter and loss) count again. It is what the simulator's
// contention world does to such a leg (internal/relaysim, relayLeg).
func sharedAir(l *Leg, ac, ae accessEst) {
	l.RTT += ac.rtt + ae.rtt
	l.RTTVar = math.Sqrt(l.RTTVar*l.RTTVar + ac.varSq + ae.varSq)
	l.Jitter = math.Sqrt(l.Jitter*l.Jitter + ac.jitSq + ae.jitSq)
	l.Loss = 1 - (1-l.Loss)*(1-ac.loss)*(1-ae.loss)
	l.SharedAir = true
}

// lossShrink is the weight a measured link's loss gives to what the two ends'
// access shares predict for it. A published loss rests on about a thousand
// packets (LinkEstimator's window), so a link losing 0.05 % mostly reads 0 and
// one losing 0.1 % may read 0.3 %; picking the cheapest of many such figures
// picks the ones read too low. The shares pool every link of both ends. Halfway
// between the two cut the median gap to the oracle in 19 of 24 simulator rows
// (docs/relay-selection.md).
const lossShrink = 0.5

// estimateFloor bounds an estimated leg's RTT from below at this multiple of the
// two ends' access shares of RTT (the typical measured path, split by ends). The
// pairs nobody measured are the far ones, since every node dials its nearest; yet
// Vivaldi reads a tenth of them at least 39 % low on a wired LAN (16 % on Wi-Fi),
// and the cheapest of 50–200 candidates is exactly such a pair. The floor lifts
// those to no less than a typical near path. 1.2 met 33 p95 rows of 72 over three
// simulator seeds, against 27 without the floor and 30–31 at 1.0, 1.1 and 1.3
// (docs/relay-selection.md).
const estimateFloor = 1.2

func usable(c vivaldi.Coord) bool { return !c.IsZero() && c.Valid() }
