package overlay

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"parley/identity"
)

// Routing carries application frames between peers that have no direct link, hop by
// hop along shortest paths of the link-state graph (see the package doc).

const (
	// routedHeaderLen is [ttl u8][dst 16][src 16][inner type u8].
	routedHeaderLen = 1 + 2*identity.IDLen + 1
	// MaxRoutedPayload is the largest payload SendTo accepts, direct or routed.
	MaxRoutedPayload = MaxFrame - routedHeaderLen
	// routedTTL is the hop budget a routed frame starts with.
	routedTTL = 16
	// routeMaxAge bounds how long a computed route tree is used without any graph
	// change, so the link RTTs it was weighted with do not go stale forever.
	routeMaxAge = 5 * time.Second
)

// ErrUnreachable means no path to the peer is known.
var ErrUnreachable = errors.New("peer unreachable")

// RoutedHandler receives an application frame routed to this node. via is the
// neighbour that delivered it (authenticated by its link). src is NOT authenticated:
// any hop on the path, or the true sender, could have written any ID there. It is
// a hint for where to answer, never an identity: who sent the payload, and whether
// that sender is blocked, must be decided on an end-to-end signature inside it
// (Parley's services check the sealed sender). The overlay drops frames whose src
// is blocked (route_drop_blocked), but only as a pre-filter: a blocked peer that
// names someone else as src gets through to the handler.
type RoutedHandler func(src identity.PeerID, via identity.PeerID, payload []byte)

// HandleRouted registers the handler for routed frames of an application type
// addressed to this node; call before Run.
func (o *Overlay) HandleRouted(typ uint8, h RoutedHandler) {
	if typ < FirstAppType {
		panic(fmt.Sprintf("overlay: frame type %d is reserved", typ))
	}
	o.mu.Lock()
	if o.routedHandlers == nil {
		o.routedHandlers = map[uint8]RoutedHandler{}
	}
	o.routedHandlers[typ] = h
	o.mu.Unlock()
}

// routedHeader is the decoded fixed part of a TypeRouted payload.
type routedHeader struct {
	TTL      uint8
	Dst, Src identity.PeerID
	Type     uint8
}

// appendRouted encodes a TypeRouted payload onto dst.
func appendRouted(dst []byte, h routedHeader, inner []byte) []byte {
	dst = append(dst, h.TTL)
	dst = append(dst, h.Dst[:]...)
	dst = append(dst, h.Src[:]...)
	dst = append(dst, h.Type)
	return append(dst, inner...)
}

// decodeRouted parses a TypeRouted payload; the inner payload aliases b.
func decodeRouted(b []byte) (routedHeader, []byte, error) {
	var h routedHeader
	if len(b) < routedHeaderLen {
		return h, nil, fmt.Errorf("routed frame: %d bytes, want at least %d", len(b), routedHeaderLen)
	}
	h.TTL = b[0]
	copy(h.Dst[:], b[1:])
	copy(h.Src[:], b[1+identity.IDLen:])
	h.Type = b[routedHeaderLen-1]
	switch {
	case h.TTL == 0:
		return h, nil, errors.New("routed frame: ttl 0")
	case h.Type < FirstAppType:
		return h, nil, fmt.Errorf("routed frame: inner type %d is not an application type", h.Type)
	case h.Dst.IsZero() || h.Src.IsZero():
		return h, nil, errors.New("routed frame: zero peer ID")
	case h.Dst == h.Src:
		return h, nil, errors.New("routed frame: source is the destination")
	}
	return h, b[routedHeaderLen:], nil
}

// SendTo queues an application frame for dst however it can be reached: as a plain
// frame of type typ when a direct link exists (direct is true; the receiver's Handle
// handler gets it), otherwise as a routed frame to the next hop of the shortest path
// (the receiver's HandleRouted handler gets it). It returns ErrUnreachable when no
// path is known and ErrQueueFull when the first hop's queue is full. Delivery is not
// confirmed: a relay may drop the frame (see the route_drop_* counters).
func (o *Overlay) SendTo(dst identity.PeerID, typ uint8, payload []byte) (direct bool, err error) {
	if typ < FirstAppType {
		return false, fmt.Errorf("frame type %d is reserved", typ)
	}
	return o.sendVia(dst, typ, payload, (*Link).send)
}

// sendVia is SendTo and SendBulk with the lane's queueing (send) left open: the
// frame goes on a direct link to dst if there is one, otherwise wrapped in a
// routed frame to the next hop of the shortest path.
func (o *Overlay) sendVia(dst identity.PeerID, typ uint8, payload []byte, send func(*Link, uint8, []byte) error) (direct bool, err error) {
	self := o.cfg.Identity.ID
	switch {
	case len(payload) > MaxRoutedPayload:
		return false, fmt.Errorf("payload of %d bytes exceeds limit %d", len(payload), MaxRoutedPayload)
	case dst == self:
		return false, errors.New("refusing to send to self")
	}
	if l := o.Link(dst); l != nil {
		err := send(l, typ, payload)
		if !errors.Is(err, ErrNoLink) {
			return true, err
		}
		// The link closed under us; a route may remain.
	}
	next, ok := o.NextHop(dst)
	if !ok {
		return false, ErrUnreachable
	}
	l := o.Link(next)
	if l == nil {
		return false, ErrUnreachable
	}
	frame := appendRouted(make([]byte, 0, routedHeaderLen+len(payload)),
		routedHeader{TTL: routedTTL, Dst: dst, Src: self, Type: typ}, payload)
	switch err := send(l, TypeRouted, frame); {
	case errors.Is(err, ErrNoLink):
		return false, ErrUnreachable
	case err != nil:
		return false, err
	}
	o.stats.Add("route_sent", 1)
	return false, nil
}

// handleRouted delivers or forwards a routed frame that arrived on l. Its cost is
// constant per frame plus a lookup in the cached route tree, so a flooding sender
// cannot make a relay spend more than it spends itself.
func (o *Overlay) handleRouted(l *Link, payload []byte) {
	h, inner, err := decodeRouted(payload)
	if err != nil {
		o.stats.Add("route_drop_malformed", 1)
		return
	}
	self := o.cfg.Identity.ID
	if h.Src == self {
		// Our own frame came back (transiently inconsistent views of the graph).
		o.stats.Add("route_drop_loop", 1)
		return
	}
	if h.Dst == self {
		// A pre-filter, not a check (see RoutedHandler): an honest frame names its
		// true source, so this loses only the blocked peer's own frames and frames
		// forged in its name, which any hop could drop anyway. It cannot catch a
		// blocked sender that names someone else; the sealed sender can.
		if o.cfg.Refuse != nil && o.cfg.Refuse(h.Src) {
			o.stats.Add("route_drop_blocked", 1)
			return
		}
		o.mu.Lock()
		fn := o.routedHandlers[h.Type]
		o.mu.Unlock()
		if fn == nil {
			o.stats.Add("route_unknown_type", 1)
			return
		}
		o.stats.Add("route_delivered", 1)
		fn(h.Src, l.Peer, inner)
		return
	}
	if h.TTL <= 1 {
		o.stats.Add("route_drop_ttl", 1)
		return
	}
	next, ok := o.NextHop(h.Dst)
	if !ok {
		o.stats.Add("route_drop_unreachable", 1)
		return
	}
	if next == l.Peer {
		o.stats.Add("route_drop_loop", 1)
		return
	}
	nl := o.Link(next)
	if nl == nil {
		o.stats.Add("route_drop_unreachable", 1)
		return
	}
	// The frame reader allocates every payload afresh, so it is ours to rewrite.
	payload[0] = h.TTL - 1
	if h.Type >= FirstBulkType {
		// Bulk never blocks a relay's reader: drop, and the ends retransmit.
		err = nl.sendBulk(context.Background(), TypeRouted, payload, false)
	} else {
		err = nl.send(TypeRouted, payload)
	}
	switch {
	case errors.Is(err, ErrQueueFull):
		o.stats.Add("route_drop_queue", 1)
		return
	case err != nil:
		o.stats.Add("route_drop_unreachable", 1)
		return
	}
	o.stats.Add("route_forwarded", 1)
	o.relay.count(h.Src, h.Dst, h.Type, len(payload), o.cfg.Now())
}

// SendBulk is SendTo for bulk traffic (typ >= FirstBulkType): the frame goes on
// the first hop's bulk lane, behind every ordinary frame, and SendBulk waits for
// room there until ctx ends — the back-pressure a bulk sender paces itself by.
// Relays drop bulk frames rather than queue them deeply, so the caller must
// detect loss end to end.
func (o *Overlay) SendBulk(ctx context.Context, dst identity.PeerID, typ uint8, payload []byte) (direct bool, err error) {
	if typ < FirstBulkType {
		return false, fmt.Errorf("frame type %d is not a bulk type", typ)
	}
	return o.sendVia(dst, typ, payload, func(l *Link, typ uint8, p []byte) error { return l.sendBulk(ctx, typ, p, true) })
}

// NextHop is the neighbour a frame for dst goes to: the first hop of the shortest
// path over the link-state graph.
func (o *Overlay) NextHop(dst identity.PeerID) (identity.PeerID, bool) {
	return o.routes().next(dst)
}

// Path is the shortest path to dst, self excluded and dst included; nil when dst is
// unreachable. It is for diagnostics and tests.
func (o *Overlay) Path(dst identity.PeerID) []identity.PeerID {
	return o.routes().path(dst)
}

// invalidateRoutes marks the cached route tree stale; caller holds o.mu. Link
// changes call it: the next lookup rebuilds at once. Record changes do not; the
// pass they request (recomputeLoop) installs a new tree within recomputeMinGap.
func (o *Overlay) invalidateRoutes() { o.routeGen++ }

// routes returns the route tree, rebuilding it when a link changed since it was
// built (or it is older than routeMaxAge). Lookups between changes are map reads;
// a rebuild runs outside the overlay's lock (graph.go).
func (o *Overlay) routes() *routeTree {
	fresh := func(t *routeTree) bool {
		return t != nil && t.gen == o.routeGen && o.cfg.Now().Sub(t.built) < routeMaxAge
	}
	o.mu.Lock()
	t := o.routeTree
	ok := fresh(t)
	o.mu.Unlock()
	if ok {
		return t
	}
	// One goroutine rebuilds; the others wait for its result rather than repeat it.
	o.routeMu.Lock()
	o.mu.Lock()
	t = o.routeTree
	ok = fresh(t)
	o.mu.Unlock()
	o.routeMu.Unlock()
	if ok {
		return t
	}
	return o.rebuild().tree
}

// hopPenalty is added to every hop, so that of two paths with equal RTT the one with
// fewer hops (fewer relays to spend CPU and queue space) wins.
const hopPenalty = 500 * time.Microsecond

// edgeCost weighs one hop whose two directions measured rttA and rttB (zero: no
// sample). This is the one place routing weights are defined.
func edgeCost(rttA, rttB time.Duration) time.Duration {
	rtt := max(rttA, rttB)
	if rtt <= 0 {
		rtt = time.Millisecond
	}
	return rtt + hopPenalty
}

// routeTree is the result of a shortest-path computation from one node.
type routeTree struct {
	gen   uint64
	built time.Time
	dist  map[identity.PeerID]time.Duration
	prev  map[identity.PeerID]identity.PeerID // predecessor on the path; self for neighbours
	first map[identity.PeerID]identity.PeerID // first hop
	self  identity.PeerID
}

func (t *routeTree) next(dst identity.PeerID) (identity.PeerID, bool) {
	h, ok := t.first[dst]
	return h, ok
}

func (t *routeTree) path(dst identity.PeerID) []identity.PeerID {
	if _, ok := t.first[dst]; !ok {
		return nil
	}
	var out []identity.PeerID
	for v := dst; v != t.self; v = t.prev[v] {
		out = append(out, v)
	}
	slices.Reverse(out)
	return out
}

// shortestPaths runs Dijkstra from node 0 (this node) over g (costs must be
// positive). Ties are broken by peer ID, so equal inputs give equal trees.
func (g *csr) shortestPaths() *routeTree {
	n := len(g.ids)
	self := g.ids[0]
	dist := make([]time.Duration, n)
	prev := make([]int32, n)
	first := make([]int32, n)
	done := make([]bool, n)
	for i := range prev {
		prev[i], first[i] = -1, -1
	}
	q := &routeQueue{{idx: 0, id: self}}
	for q.Len() > 0 {
		it := heap.Pop(q).(routeItem)
		u := it.idx
		if done[u] {
			continue
		}
		done[u] = true
		for _, e := range g.adj[u] {
			v := e.to
			if done[v] || v == 0 {
				continue
			}
			d := it.dist + e.cost
			if prev[v] >= 0 && (dist[v] < d || dist[v] == d && !g.ids[u].Less(g.ids[prev[v]])) {
				continue
			}
			dist[v], prev[v] = d, u
			if u == 0 {
				first[v] = v
			} else {
				first[v] = first[u]
			}
			heap.Push(q, routeItem{idx: v, id: g.ids[v], dist: d})
		}
	}
	t := &routeTree{
		self:  self,
		dist:  map[identity.PeerID]time.Duration{self: 0},
		prev:  map[identity.PeerID]identity.PeerID{},
		first: map[identity.PeerID]identity.PeerID{},
	}
	for v := 1; v < n; v++ {
		if prev[v] < 0 {
			continue
		}
		id := g.ids[v]
		t.dist[id], t.prev[id], t.first[id] = dist[v], g.ids[prev[v]], g.ids[first[v]]
	}
	return t
}

// shortestPaths runs Dijkstra from self over adj (adj[u][v] is the cost of the hop
// u→v), for tests that craft a graph by hand.
func shortestPaths(self identity.PeerID, adj map[identity.PeerID]map[identity.PeerID]time.Duration) *routeTree {
	g := &csr{index: map[identity.PeerID]int32{}}
	g.add(self)
	idx := func(id identity.PeerID) int32 {
		if i, ok := g.index[id]; ok {
			return i
		}
		return g.add(id)
	}
	// Sorted, so that the graph (and its tie-breaks) does not depend on map order.
	us := slices.SortedFunc(maps.Keys(adj), func(a, b identity.PeerID) int { return a.Compare(b) })
	for _, u := range us {
		vs := slices.SortedFunc(maps.Keys(adj[u]), func(a, b identity.PeerID) int { return a.Compare(b) })
		for _, v := range vs {
			g.edge(idx(u), idx(v), adj[u][v])
		}
	}
	return g.shortestPaths()
}

type routeItem struct {
	idx  int32
	id   identity.PeerID
	dist time.Duration
}

// routeQueue is a min-heap by distance, then peer ID.
type routeQueue []routeItem

func (q routeQueue) Len() int { return len(q) }
func (q routeQueue) Less(i, j int) bool {
	if q[i].dist != q[j].dist {
		return q[i].dist < q[j].dist
	}
	return q[i].id.Less(q[j].id)
}
func (q routeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *routeQueue) Push(x any)   { *q = append(*q, x.(routeItem)) }
func (q *routeQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
