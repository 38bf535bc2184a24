package selection

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"parley/vivaldi"
)

// PeerInfo is what is known about one peer: what it published about itself, plus
// whether it is online now.
type PeerInfo struct {
	ID       string
	Coord    vivaldi.Coord // zero = none published
	Power    Power
	LinkType LinkType
	// Spare capacity the peer can give to relaying, kbit/s; 0 means unknown and is
	// costed as DefaultSpareKbps (a saturated peer publishes 1).
	SpareUpKbps, SpareDownKbps uint32
	RelaySessions              uint16  // relay sessions it carries now
	RelayKbps                  uint32  // bandwidth those sessions use
	CPULoad                    float32 // 0..1
	// Cell is the Wi-Fi access point it is on (SelfMetrics.Cell); 0 = unknown.
	Cell uint64
	// Failures is this node's own decayed count of what the peer failed at for it
	// (linkquality.Reputation: relay asks not granted, ...); never published.
	Failures float32
	Addrs    []netip.Addr
	Online   bool
}

// LinkInfo is one measured link. The same pair may appear several times (each end
// publishes its own view); Rank combines them.
type LinkInfo struct {
	A, B   string
	RTT    time.Duration // smoothed RTT
	RTTVar time.Duration // RTT mean deviation (RFC 6298)
	Jitter time.Duration // mean |difference| of consecutive RTT samples (RFC 3550 style)
	Loss   float32       // 0..1
}

// Graph is the shared picture: every peer's published record plus this node's own
// measurements. Rank indexes Peers and Links on first use and caches the index;
// call Invalidate after changing either, or build a new Graph.
type Graph struct {
	Peers map[string]PeerInfo
	Links []LinkInfo
	// Own are this node's fresh measurements. They replace anything in Links for the
	// same pair and are not cached, so they can change on every call (see WithOwn).
	Own []LinkInfo

	mu  sync.Mutex
	idx *index
}

// WithOwn returns a graph sharing g's peers, links and index, with own as its own
// measurements. The shared picture changes when a record arrives, own measurements
// on every probe; this keeps the expensive part indexed once.
func (g *Graph) WithOwn(own []LinkInfo) *Graph {
	return &Graph{Peers: g.Peers, Links: g.Links, Own: own, idx: g.index()}
}

// Invalidate drops the cached index after Peers or Links changed.
func (g *Graph) Invalidate() {
	g.mu.Lock()
	g.idx = nil
	g.mu.Unlock()
}

func (g *Graph) index() *index {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.idx == nil {
		g.idx = buildIndex(g.Peers, g.Links)
	}
	return g.idx
}

// linkStat is a combined link in ms units.
type linkStat struct {
	rtt, rttVar, jitter, loss float64
}

// index is the part of a Graph that Rank needs in constant time per lookup.
type index struct {
	ids    []string       // sorted peer IDs, Peers and link ends
	pos    map[string]int // ID -> position in ids
	online []string       // sorted online peer IDs
	links  map[uint64]linkStat
	access []accessEst // per position in ids
}

func pairKey(i, j int) uint64 {
	if i > j {
		i, j = j, i
	}
	return uint64(i)<<32 | uint64(uint32(j))
}

func buildIndex(peers map[string]PeerInfo, links []LinkInfo) *index {
	x := &index{pos: map[string]int{}, links: map[uint64]linkStat{}}
	add := func(id string) {
		if _, ok := x.pos[id]; !ok {
			x.pos[id] = -1
			x.ids = append(x.ids, id)
		}
	}
	for id, p := range peers {
		add(id)
		if p.Online {
			x.online = append(x.online, id)
		}
	}
	for _, l := range links {
		add(l.A)
		add(l.B)
	}
	slices.Sort(x.ids)
	slices.Sort(x.online)
	for i, id := range x.ids {
		x.pos[id] = i
	}

	// Combine duplicates: mean RTT (both ends measure the same round trip), and the
	// worse of the variability and loss figures (be pessimistic about what hurts).
	type acc struct {
		s linkStat
		n int
	}
	sums := map[uint64]*acc{}
	for _, l := range links {
		if l.A == l.B {
			continue
		}
		k := pairKey(x.pos[l.A], x.pos[l.B])
		a := sums[k]
		if a == nil {
			a = &acc{}
			sums[k] = a
		}
		s := linkFromInfo(l)
		a.n++
		a.s.rtt += s.rtt
		a.s.rttVar = max(a.s.rttVar, s.rttVar)
		a.s.jitter = max(a.s.jitter, s.jitter)
		a.s.loss = max(a.s.loss, s.loss)
	}
	for k, a := range sums {
		a.s.rtt /= float64(a.n)
		x.links[k] = a.s
	}
	x.access = estimateAccess(len(x.ids), x.links)
	return x
}

func linkFromInfo(l LinkInfo) linkStat {
	return linkStat{
		rtt:    durMs(l.RTT),
		rttVar: durMs(l.RTTVar),
		jitter: durMs(l.Jitter),
		loss:   clamp01(float64(l.Loss)),
	}
}

func durMs(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return float64(d) / float64(time.Millisecond)
}

func clamp01(v float64) float64 {
	if !(v > 0) { // also NaN
		return 0
	}
	return min(v, 1)
}
