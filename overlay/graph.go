package overlay

import (
	"encoding/binary"
	"maps"
	"slices"
	"time"

	"parley/identity"
)

// The link-state graph: who is online, the route tree, and which records to evict
// first, all from one pass over a snapshot of the record table.
//
// A pass used to run under the overlay's lock and cost O(records × neighbours²)
// (a linear search of the other end's list for every listed neighbour) plus a map
// of every listed pair for routing: at 4,096 records of 512 neighbours each, 8 s
// and 628 MB a pass, with every link's reader waiting for the lock. Now
//
//   - the lock is held only to copy the table (a map of pointers; records are
//     immutable once stored) and to apply the result;
//   - neighbour lists are sorted by ID when a record is stored (sortNeighbours), so
//     "does v list u back" is a binary search;
//   - a pass looks at no more than maxGraphEdges listings in all: each record's
//     list counts up to an equal share of that budget;
//   - record changes are folded into one pass at most every few tens of
//     milliseconds (recomputeLoop); link changes recompute at once.
//
// BenchmarkGraphRebuild and TestRebuildDoesNotHoldTheLock re-measure this.

// maxGraphEdges bounds the neighbour listings one pass looks at. An honest overlay
// at the record cap (4,096 peers) whose nodes each dial maxDialDegree (32) links
// lists at most 2 × 32 per node on average, 262,144 in all, so it is never cut;
// a flood of throwaway records listing 512 neighbours each (2 million listings)
// is. Each reached record's list is first read up to maxGraphEdges / records held
// (64 at the cap, the whole list of up to 512 below 512 records), so one long list
// cannot spend the budget of the others; what is left of the budget then goes to
// the rest of the cut lists (a hub with many neighbours), in the order they were
// reached. An edge is found from either end, so a cut list loses an edge only when
// the other end's list is cut too. At the cap a pass costs about 50 ms of CPU and 13 MB
// (BenchmarkGraphRebuild/4096x512; 8 s and 628 MB before the budget).
const maxGraphEdges = 64 * 4096

// recomputeMinGap is the least time between two passes caused by records (link
// changes do not wait): a flood of records costs a pass at most this often, and a
// newcomer shows as online at most this much later.
const recomputeMinGap = 50 * time.Millisecond

// recomputeBackoff stretches the gap after a slow pass: a pass of d is followed by
// at least recomputeBackoff × d of rest, so passes take at most 1/(1+4) of a core.
// At twice d, a third of a core, the 40 nodes of a hall starting on one 2-core
// machine wanted 13 cores of passes between them while their links came up (graph
// rebuilds were 12 % of all their CPU, cmd/benchhall with PARLEY_CPUPROFILE). A
// pass on a LAN of 40 takes about a millisecond, so recomputeMinGap still rules
// a machine that is not starved; at the record cap (4,096, a flood) a pass of
// ~50 ms rests 200 ms, so a newcomer still shows within a second
// (TestHostileRecordFloodNewcomer).
const recomputeBackoff = 4

// graphInput is what a pass reads, copied under o.mu.
type graphInput struct {
	self    identity.PeerID
	selfRec *Record
	records map[identity.PeerID]*Record
	heard   map[identity.PeerID]time.Time
	links   []*Link           // live links: route edges and reachability
	grace   []identity.PeerID // superseded links being replaced: reachability only
	kept    map[identity.PeerID]bool
	// everOnline are the authors seen online during this run: their records
	// do not expire (chat and files take a peer's key from its record, to seal
	// for it while it is away).
	everOnline map[identity.PeerID]bool
	routeGen   uint64
	now        time.Time
	edgeCost   func(u, v identity.PeerID, ru, rv *Record, rtt time.Duration) time.Duration
}

// graphResult is what a pass finds.
type graphResult struct {
	online map[identity.PeerID]bool
	hops   map[identity.PeerID]int32 // hop count of every reachable peer (self 0)
	load   map[identity.PeerID]int32 // peers first reached through each peer
	// parentLoad is, for every reachable peer, the load of the peer it was first
	// reached through.
	parentLoad map[identity.PeerID]int32
	tree       *routeTree
	// victims are the records that may be evicted, worst first (evict.go).
	victims []victim
	// expired are records to drop now: unreachable or goodbye, unheard for
	// recordExpiry (evict.go).
	expired []victim
	capped  int // records whose neighbour list was cut to the budget
}

// snapshotLocked copies what a pass needs; caller holds o.mu.
func (o *Overlay) snapshotLocked() *graphInput {
	in := &graphInput{
		self: o.cfg.Identity.ID, selfRec: o.selfRec,
		records: maps.Clone(o.records), heard: maps.Clone(o.heard), kept: maps.Clone(o.kept), everOnline: maps.Clone(o.everOnline),
		links:    make([]*Link, 0, len(o.links)),
		routeGen: o.routeGen, now: o.cfg.Now(), edgeCost: o.cfg.EdgeCost,
	}
	for _, l := range o.links {
		in.links = append(in.links, l)
	}
	for id := range o.grace {
		in.grace = append(in.grace, id)
	}
	return in
}

// recompute rebuilds the graph and reports who came online or went offline.
//
// A peer is online when it is reachable from this node over edges both ends vouch
// for (our own live links, or two records that list each other) and its newest
// record is not a goodbye. Requiring both ends means a crashed peer's last record,
// which still lists its old neighbours, cannot keep it alive once they drop it.
func (o *Overlay) recompute() { o.rebuild() }

// rebuild runs one pass and applies it. Passes are serialised (routeMu), so
// results are applied in the order their snapshots were taken.
func (o *Overlay) rebuild() *graphResult {
	o.routeMu.Lock()
	defer o.routeMu.Unlock()
	o.mu.Lock()
	in := o.snapshotLocked()
	o.mu.Unlock()
	res := buildGraph(in)
	if res.capped > 0 {
		o.stats.Add("graph_lists_capped", uint64(res.capped))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.applyLocked(in, res)
	return res
}

// applyLocked installs a pass's result; caller holds o.mu.
func (o *Overlay) applyLocked(in *graphInput, res *graphResult) {
	o.expireLocked(res.expired)
	next := make(map[identity.PeerID]bool, len(res.online))
	for id := range res.online {
		// A record evicted or expired since the snapshot is not online.
		if r := o.records[id]; r != nil && !r.Offline {
			next[id] = true
			o.everOnline[id] = true
		}
	}
	for id := range o.online {
		if !next[id] {
			o.emit(Event{Kind: PeerOffline, Peer: id, Record: o.records[id]})
		}
	}
	for id := range next {
		if !o.online[id] {
			o.emit(Event{Kind: PeerOnline, Peer: id, Record: o.records[id]})
		}
	}
	o.online = next
	o.resendPresenceLocked()
	o.hops, o.load, o.parentLoad = res.hops, res.load, res.parentLoad
	o.victims = res.victims
	res.tree.gen, res.tree.built = in.routeGen, in.now
	o.routeTree = res.tree // if links changed meanwhile, its gen is already stale
}

// buildGraph is the pass itself; it touches nothing but its input.
func buildGraph(in *graphInput) *graphResult {
	g := &csr{index: map[identity.PeerID]int32{}}
	g.add(in.self)
	res := &graphResult{hops: map[identity.PeerID]int32{in.self: 0}, load: map[identity.PeerID]int32{}}
	cost := func(u, v identity.PeerID, rttA, rttB time.Duration) time.Duration {
		if in.edgeCost == nil {
			return edgeCost(rttA, rttB)
		}
		ru, rv := in.records[u], in.records[v]
		if u == in.self {
			ru = in.selfRec
		}
		return in.edgeCost(u, v, ru, rv, max(rttA, rttB)) + hopPenalty
	}
	var queue []int32
	parents := []int32{-1}
	reach := func(id identity.PeerID, parent int32) int32 {
		v, seen := g.index[id]
		if !seen {
			v = g.add(id)
			parents = append(parents, parent)
			res.hops[id] = res.hops[g.ids[parent]] + 1
			if parent != 0 {
				res.load[g.ids[parent]]++
			}
			queue = append(queue, v)
		}
		return v
	}
	for _, l := range in.links {
		v := reach(l.Peer, 0)
		// A link both records list is weighed from them, as every other node
		// weighs it: with the RTT measured just now instead, a node whose own
		// link to d had slowed since it was published (d just restarted and
		// answers late) sent d's frames to a neighbour that, by the published
		// figures, saw this node as the cheaper way to d and sent them back —
		// a loop until the next record, a minute later
		// (TestRoutesToRestartedNodeDoNotLoop). Only a link the records do
		// not show yet, which nobody else routes over, uses the live RTT.
		mine, okMine := listedRTT(in.selfRec, l.Peer)
		theirs, okTheirs := listedRTT(in.records[l.Peer], in.self)
		if okMine && okTheirs {
			g.edge(0, v, cost(in.self, l.Peer, mine, theirs))
		} else {
			g.edge(0, v, cost(in.self, l.Peer, l.SRTT(), 0))
		}
	}
	for _, id := range in.grace {
		reach(id, 0)
	}
	// First every reached record's share of the budget, in BFS order; then, if
	// budget is left (unreachable records are never read), the rest of the lists
	// that were cut, and whatever that reaches.
	share := maxNeighbours
	if n := len(in.records); n > 0 {
		share = max(1, min(maxNeighbours, maxGraphEdges/n))
	}
	budget := maxGraphEdges
	type cutList struct {
		u    int32
		done int
	}
	var cut []cutList
	// read looks at count entries of u's list from entry from on, in a window
	// starting at a place u's ID picks (IDs are hashes), so cut lists keep
	// different parts of the graph, not all the lowest IDs.
	read := func(u int32, list []NeighbourInfo, from, count int) {
		uid := g.ids[u]
		start := int(binary.BigEndian.Uint32(uid[:]) % uint32(len(list)))
		for k := from; k < from+count; k++ {
			n := &list[(start+k)%len(list)]
			if n.ID == in.self || n.ID == uid {
				continue
			}
			back, ok := listedRTT(in.records[n.ID], uid)
			if !ok {
				continue // only one end vouches for it (e.g. a crashed peer's last record)
			}
			v := reach(n.ID, u)
			g.edge(u, v, cost(uid, n.ID, n.RTT, back))
		}
	}
	live := func(u int32) []NeighbourInfo {
		if r := in.records[g.ids[u]]; r != nil && !r.Offline {
			return r.Neighbours
		}
		return nil
	}
	qi := 0
	expandQueue := func() {
		for ; qi < len(queue); qi++ {
			u := queue[qi]
			list := live(u)
			if len(list) == 0 {
				continue
			}
			take := min(len(list), share, budget)
			read(u, list, 0, take)
			budget -= take
			if take < len(list) {
				cut = append(cut, cutList{u, take})
			}
		}
	}
	expandQueue()
	for i := 0; i < len(cut) && budget > 0; i++ {
		c := &cut[i]
		list := live(c.u)
		take := min(len(list)-c.done, budget)
		read(c.u, list, c.done, take)
		c.done += take
		budget -= take
		expandQueue()
	}
	for _, c := range cut {
		if c.done < len(live(c.u)) {
			res.capped++
		}
	}
	res.online = make(map[identity.PeerID]bool, len(g.ids))
	for _, id := range g.ids[1:] {
		if r := in.records[id]; r != nil && !r.Offline {
			res.online[id] = true
		}
	}
	res.tree = g.shortestPaths()
	res.parentLoad = make(map[identity.PeerID]int32, len(g.ids))
	for v, p := range parents {
		if p > 0 {
			res.parentLoad[g.ids[v]] = res.load[g.ids[p]]
		}
	}
	res.victims, res.expired = rankVictims(in, res)
	return res
}

// listedRTT reports whether r (live, neighbours sorted by ID) lists id, and the
// RTT it gives. It is the inner loop of a pass: a binary search comparing IDs as
// two integers (the bytes are big-endian, so the order is the same).
func listedRTT(r *Record, id identity.PeerID) (time.Duration, bool) {
	if r == nil || r.Offline {
		return 0, false
	}
	hi, lo := binary.BigEndian.Uint64(id[:8]), binary.BigEndian.Uint64(id[8:])
	list := r.Neighbours
	i, j := 0, len(list)
	for i < j {
		m := int(uint(i+j) >> 1)
		n := &list[m].ID
		nhi, nlo := binary.BigEndian.Uint64(n[:8]), binary.BigEndian.Uint64(n[8:])
		if nhi < hi || nhi == hi && nlo < lo {
			i = m + 1
		} else {
			j = m
		}
	}
	if i < len(list) && list[i].ID == id {
		return list[i].RTT, true
	}
	return 0, false
}

// sortNeighbours orders a record's neighbour list by ID (honest nodes publish it
// sorted already), so listedRTT can search it. Call before the record is stored:
// stored records are shared without a lock.
func sortNeighbours(r *Record) {
	cmpID := func(a, b NeighbourInfo) int { return a.ID.Compare(b.ID) }
	if !slices.IsSortedFunc(r.Neighbours, cmpID) {
		r.Neighbours = slices.Clone(r.Neighbours)
		slices.SortFunc(r.Neighbours, cmpID)
	}
}

// csr is the routing graph by index: ids[i] is node i (0 is this node), adj[i] its
// edges. Indices keep Dijkstra's bookkeeping in slices instead of maps.
type csr struct {
	index map[identity.PeerID]int32
	ids   []identity.PeerID
	adj   [][]csrEdge
}

type csrEdge struct {
	to   int32
	cost time.Duration
}

func (g *csr) add(id identity.PeerID) int32 {
	i := int32(len(g.ids))
	g.index[id] = i
	g.ids = append(g.ids, id)
	g.adj = append(g.adj, nil)
	return i
}

func (g *csr) edge(u, v int32, cost time.Duration) {
	g.adj[u] = append(g.adj[u], csrEdge{v, cost})
}

// Online reports whether id is currently reachable.
func (o *Overlay) Online(id identity.PeerID) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.online[id]
}

// OnlinePeers lists the reachable peers.
func (o *Overlay) OnlinePeers() []identity.PeerID {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]identity.PeerID, 0, len(o.online))
	for id := range o.online {
		out = append(out, id)
	}
	return out
}
