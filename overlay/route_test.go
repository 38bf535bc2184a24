package overlay

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"parley/identity"
)

type routedMsg struct {
	src, via identity.PeerID
	payload  string
}

// routedInbox registers a routed handler for FirstAppType that forwards to a channel.
func routedInbox(ch chan routedMsg) func(*Overlay) {
	return func(o *Overlay) {
		o.HandleRouted(FirstAppType, func(src, via identity.PeerID, p []byte) {
			ch <- routedMsg{src, via, string(p)}
		})
	}
}

func recvRouted(t *testing.T, ch chan routedMsg, what string) routedMsg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
	}
	return routedMsg{}
}

// waitStat waits until n's counter reaches want.
func waitStat(t *testing.T, n *testNode, key string, want uint64) {
	t.Helper()
	waitUntil(t, n.name+" "+key, func() bool { return n.ov.Stats()[key] >= want })
}

// routedLine starts alice–bob–carol (alice and carol not linked) with routed inboxes
// on alice and carol and waits until each end sees the other online.
func routedLine(t *testing.T) (a, b, c *testNode, inA, inC chan routedMsg) {
	t.Helper()
	inA, inC = make(chan routedMsg, 16), make(chan routedMsg, 16)
	a = startNodeWith(t, 1, "alice", routedInbox(inA))
	b = startNode(t, 2, "bob")
	c = startNodeWith(t, 3, "carol", routedInbox(inC))
	dial(t, a, b)
	dial(t, c, b)
	a.waitEvent("carol online via bob", is(PeerOnline, c.id.ID))
	c.waitEvent("alice online via bob", is(PeerOnline, a.id.ID))
	if a.ov.Linked(c.id.ID) || c.ov.Linked(a.id.ID) {
		t.Fatal("alice and carol are linked directly")
	}
	return a, b, c, inA, inC
}

func TestSendToRoutesAcrossALine(t *testing.T) {
	a, b, c, inA, inC := routedLine(t)

	if p := a.ov.Path(c.id.ID); !slices.Equal(p, []identity.PeerID{b.id.ID, c.id.ID}) {
		t.Fatalf("alice's path to carol = %v, want [bob carol]", p)
	}
	if hop, ok := a.ov.NextHop(c.id.ID); !ok || hop != b.id.ID {
		t.Fatalf("alice's next hop to carol = %v, %v", hop, ok)
	}
	direct, err := a.ov.SendTo(c.id.ID, FirstAppType, []byte("hi carol"))
	if err != nil || direct {
		t.Fatalf("SendTo carol = direct %v, err %v; want a routed send", direct, err)
	}
	m := recvRouted(t, inC, "carol to get alice's routed frame")
	if m != (routedMsg{a.id.ID, b.id.ID, "hi carol"}) {
		t.Fatalf("carol got %+v", m)
	}
	waitStat(t, b, "route_forwarded", 1)

	// And back.
	if p := c.ov.Path(a.id.ID); !slices.Equal(p, []identity.PeerID{b.id.ID, a.id.ID}) {
		t.Fatalf("carol's path to alice = %v", p)
	}
	if direct, err := c.ov.SendTo(a.id.ID, FirstAppType, []byte("hi alice")); err != nil || direct {
		t.Fatalf("SendTo alice = direct %v, err %v", direct, err)
	}
	m = recvRouted(t, inA, "alice to get carol's reply")
	if m != (routedMsg{c.id.ID, b.id.ID, "hi alice"}) {
		t.Fatalf("alice got %+v", m)
	}
	waitStat(t, b, "route_forwarded", 2)
	for _, n := range []*testNode{a, c} {
		if s := n.ov.Stats(); s["route_sent"] != 1 || s["route_delivered"] != 1 {
			t.Errorf("%s: route_sent %d, route_delivered %d; want 1 and 1", n.name, s["route_sent"], s["route_delivered"])
		}
	}
	for k, v := range b.ov.Stats() {
		if k != "route_forwarded" && len(k) > 6 && k[:6] == "route_" && v != 0 {
			t.Errorf("bob: %s = %d", k, v)
		}
	}

	// Once carol leaves, the cached route goes with her.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.ov.Shutdown(ctx)
	a.waitEvent("carol offline", is(PeerOffline, c.id.ID))
	if p := a.ov.Path(c.id.ID); p != nil {
		t.Fatalf("alice still has a path %v to carol after her goodbye", p)
	}
	if _, err := a.ov.SendTo(c.id.ID, FirstAppType, []byte("gone?")); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("SendTo departed carol: err = %v, want ErrUnreachable", err)
	}
}

func TestSendToDirectUsesPlainHandler(t *testing.T) {
	plain := make(chan string, 1)
	routed := make(chan routedMsg, 1)
	a := startNode(t, 1, "alice")
	b := startNodeWith(t, 2, "bob", func(o *Overlay) {
		o.Handle(FirstAppType, func(from identity.PeerID, p []byte) { plain <- string(p) })
		routedInbox(routed)(o)
	})
	dial(t, a, b)
	a.waitEvent("bob online", is(PeerOnline, b.id.ID))

	direct, err := a.ov.SendTo(b.id.ID, FirstAppType, []byte("direct"))
	if err != nil || !direct {
		t.Fatalf("SendTo linked bob = direct %v, err %v", direct, err)
	}
	select {
	case p := <-plain:
		if p != "direct" {
			t.Fatalf("plain handler got %q", p)
		}
	case m := <-routed:
		t.Fatalf("a direct send reached the routed handler: %+v", m)
	case <-time.After(waitLimit):
		t.Fatal("direct frame not delivered")
	}
	if p := a.ov.Path(b.id.ID); !slices.Equal(p, []identity.PeerID{b.id.ID}) {
		t.Fatalf("path to a neighbour = %v", p)
	}
	if s := a.ov.Stats()["route_sent"]; s != 0 {
		t.Fatalf("route_sent = %d after a direct send", s)
	}
}

func TestSendToErrors(t *testing.T) {
	a := startNode(t, 1, "alice")
	b := startNode(t, 2, "bob")
	dial(t, a, b)
	a.waitEvent("bob online", is(PeerOnline, b.id.ID))

	if _, err := a.ov.SendTo(testIdentity(t, 99).ID, FirstAppType, []byte("x")); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("SendTo an unknown peer: err = %v, want ErrUnreachable", err)
	}
	if _, ok := a.ov.NextHop(testIdentity(t, 99).ID); ok {
		t.Fatal("next hop for an unknown peer")
	}
	if p := a.ov.Path(testIdentity(t, 99).ID); p != nil {
		t.Fatalf("path to an unknown peer: %v", p)
	}
	if _, err := a.ov.SendTo(b.id.ID, FirstAppType, make([]byte, MaxRoutedPayload+1)); err == nil {
		t.Fatal("SendTo accepted an oversized payload")
	}
	if _, err := a.ov.SendTo(b.id.ID, TypeRecord, nil); err == nil {
		t.Fatal("SendTo accepted a reserved frame type")
	}
	if _, err := a.ov.SendTo(a.id.ID, FirstAppType, nil); err == nil {
		t.Fatal("SendTo self succeeded")
	}
	if direct, err := a.ov.SendTo(b.id.ID, FirstAppType, make([]byte, MaxRoutedPayload)); err != nil || !direct {
		t.Fatalf("SendTo of the largest payload: direct %v, err %v", direct, err)
	}
}

func TestRelayDropsAndCounts(t *testing.T) {
	a, b, c, _, inC := routedLine(t)
	l := a.ov.Link(b.id.ID)
	send := func(payload []byte) {
		t.Helper()
		if err := l.send(TypeRouted, payload); err != nil {
			t.Fatal(err)
		}
	}
	hdr := func(ttl uint8, dst, src identity.PeerID, typ uint8) routedHeader {
		return routedHeader{TTL: ttl, Dst: dst, Src: src, Type: typ}
	}
	stranger := testIdentity(t, 99).ID

	// ttl 1 for someone else: bob must not forward it.
	send(appendRouted(nil, hdr(1, c.id.ID, a.id.ID, FirstAppType), []byte("ttl 1")))
	waitStat(t, b, "route_drop_ttl", 1)
	// ttl 2 still has a hop left: carol gets it.
	send(appendRouted(nil, hdr(2, c.id.ID, a.id.ID, FirstAppType), []byte("ttl 2")))
	if m := recvRouted(t, inC, "the ttl 2 frame"); m.payload != "ttl 2" {
		t.Fatalf("carol got %+v", m)
	}
	waitStat(t, b, "route_forwarded", 1)
	// Addressed back to the sender: the next hop is where it came from.
	send(appendRouted(nil, hdr(16, a.id.ID, c.id.ID, FirstAppType), []byte("bounce")))
	waitStat(t, b, "route_drop_loop", 1)
	// No path.
	send(appendRouted(nil, hdr(16, stranger, a.id.ID, FirstAppType), []byte("nowhere")))
	waitStat(t, b, "route_drop_unreachable", 1)
	// Malformed: reserved inner type, truncated header, ttl 0.
	send(appendRouted(nil, hdr(16, c.id.ID, a.id.ID, TypeRecord), []byte("not an app type")))
	send(appendRouted(nil, hdr(16, c.id.ID, a.id.ID, FirstAppType), nil)[:routedHeaderLen-1])
	send(appendRouted(nil, hdr(0, c.id.ID, a.id.ID, FirstAppType), nil))
	waitStat(t, b, "route_drop_malformed", 3)
	// Delivered, but carol has no handler for the type.
	send(appendRouted(nil, hdr(16, c.id.ID, a.id.ID, 200), []byte("unknown")))
	waitStat(t, c, "route_unknown_type", 1)
	// A frame for bob himself, whose routed handler set is empty.
	send(appendRouted(nil, hdr(16, b.id.ID, a.id.ID, FirstAppType), []byte("to bob")))
	waitStat(t, b, "route_unknown_type", 1)

	s := b.ov.Stats()
	for k, want := range map[string]uint64{
		"route_drop_ttl": 1, "route_forwarded": 2, "route_drop_loop": 1,
		"route_drop_unreachable": 1, "route_drop_malformed": 3, "route_unknown_type": 1,
	} {
		if s[k] != want {
			t.Errorf("bob: %s = %d, want %d", k, s[k], want)
		}
	}
	if !b.ov.Linked(a.id.ID) || !b.ov.Linked(c.id.ID) {
		t.Fatal("bad routed frames cost a link")
	}
}

// The pure shortest-path computation, on crafted graphs.

func pid(n byte) identity.PeerID { return identity.PeerID{n} }

type graph map[identity.PeerID]map[identity.PeerID]time.Duration

// edge adds u–v in both directions with the production weight for a measured RTT.
func (g graph) edge(u, v byte, rtt time.Duration) graph {
	for _, e := range [][2]byte{{u, v}, {v, u}} {
		if g[pid(e[0])] == nil {
			g[pid(e[0])] = map[identity.PeerID]time.Duration{}
		}
		g[pid(e[0])][pid(e[1])] = edgeCost(rtt, rtt)
	}
	return g
}

func ids(ns ...byte) []identity.PeerID {
	out := make([]identity.PeerID, len(ns))
	for i, n := range ns {
		out[i] = pid(n)
	}
	return out
}

func TestShortestPaths(t *testing.T) {
	const (
		A = 1 + iota
		B
		C
		D
		E
		F
	)
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		g    graph
		dst  byte
		want []identity.PeerID // nil: unreachable
	}{
		{"square avoids the slow side", graph{}.edge(A, B, 20*ms).edge(B, D, 20*ms).edge(A, C, 2*ms).edge(C, D, 2*ms), D, ids(C, D)},
		{"square, other side slow", graph{}.edge(A, B, 2*ms).edge(B, D, 2*ms).edge(A, C, 2*ms).edge(C, D, 30*ms), D, ids(B, D)},
		{"one slow hop of two beats three fast", graph{}.edge(A, B, 1*ms).edge(B, C, 1*ms).edge(C, D, 1*ms).edge(A, E, 1*ms).edge(E, D, 2*ms), D, ids(E, D)},
		{"equal RTT prefers fewer hops", graph{}.edge(A, B, 1*ms).edge(B, D, 1*ms).edge(A, D, 2*ms), D, ids(D)},
		{"equal RTT prefers fewer hops, longer chain", graph{}.edge(A, B, 1*ms).edge(B, C, 1*ms).edge(C, D, 1*ms).edge(A, E, 1500*time.Microsecond).edge(E, D, 1500*time.Microsecond), D, ids(E, D)},
		{"cheaper detour beats direct", graph{}.edge(A, D, 10*ms).edge(A, B, 1*ms).edge(B, D, 1*ms), D, ids(B, D)},
		{"zero RTT counts as 1 ms", graph{}.edge(A, B, 0).edge(B, D, 0).edge(A, C, 900*time.Microsecond).edge(C, D, 900*time.Microsecond), D, ids(C, D)},
		{"disconnected component", graph{}.edge(A, B, ms).edge(E, F, ms), F, nil},
		{"unknown node", graph{}.edge(A, B, ms), D, nil},
		{"isolated self", graph{}.edge(B, C, ms), C, nil},
		{"self", graph{}.edge(A, B, ms), A, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := shortestPaths(pid(A), tc.g)
			if got := tr.path(pid(tc.dst)); !slices.Equal(got, tc.want) {
				t.Fatalf("path = %v, want %v", got, tc.want)
			}
			hop, ok := tr.next(pid(tc.dst))
			if ok != (tc.want != nil) || (ok && hop != tc.want[0]) {
				t.Fatalf("next = %v, %v; want first of %v", hop, ok, tc.want)
			}
		})
	}
}

func TestShortestPathsTieIsDeterministic(t *testing.T) {
	// Two equal paths A–B–D and A–C–D: the lower ID wins, every time.
	g := graph{}.edge(1, 3, time.Millisecond).edge(3, 4, time.Millisecond).edge(1, 2, time.Millisecond).edge(2, 4, time.Millisecond)
	for range 20 {
		if hop, _ := shortestPaths(pid(1), g).next(pid(4)); hop != pid(2) {
			t.Fatalf("tie broken towards %v", hop)
		}
	}
}

func TestAdjacencyNeedsBothEnds(t *testing.T) {
	self := testIdentity(t, 1)
	B, C, D, E := pid(2), pid(3), pid(4), pid(5)
	nb := func(id identity.PeerID, rtt time.Duration) NeighbourInfo { return NeighbourInfo{ID: id, RTT: rtt} }
	records := map[identity.PeerID]*Record{
		B:      {Neighbours: []NeighbourInfo{nb(self.ID, 0), nb(C, 3*time.Millisecond), nb(D, time.Millisecond)}},
		C:      {Neighbours: []NeighbourInfo{nb(B, 5*time.Millisecond)}},
		D:      {Neighbours: []NeighbourInfo{}},                                       // does not list B back
		E:      {Offline: true, Neighbours: []NeighbourInfo{nb(B, 0)}},                // goodbye
		pid(6): {Neighbours: []NeighbourInfo{nb(pid(6), time.Millisecond), nb(B, 0)}}, // self-loop, one-sided
	}
	for _, r := range records {
		sortNeighbours(r)
	}
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	in := &graphInput{self: self.ID, records: records, links: []*Link{newLink(c1, B, nil, true, time.Now())}, now: time.Now()}
	res := buildGraph(in)
	if len(res.online) != 2 || !res.online[B] || !res.online[C] {
		t.Fatalf("online %v, want B and C", res.online)
	}
	// Self–B is the link (no RTT sample yet), B–C weighed by the slower direction.
	if d, want := res.tree.dist[C], edgeCost(0, 0)+edgeCost(3*time.Millisecond, 5*time.Millisecond); d != want {
		t.Fatalf("distance to C %v, want %v", d, want)
	}
	for _, id := range []identity.PeerID{D, E, pid(6)} {
		if _, ok := res.tree.next(id); ok {
			t.Errorf("%v routable over a one-sided or goodbye edge", id)
		}
	}
	if got := edgeCost(0, 0); got != time.Millisecond+hopPenalty {
		t.Fatalf("edgeCost(0, 0) = %v", got)
	}
}

func routedCases() []struct {
	name string
	b    []byte
	ok   bool
} {
	a, c := identity.PeerID{1, 2, 3}, identity.PeerID{9, 8, 7}
	good := appendRouted(nil, routedHeader{TTL: 16, Dst: c, Src: a, Type: FirstAppType}, []byte("payload"))
	return []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"good", good, true},
		{"empty inner payload", appendRouted(nil, routedHeader{TTL: 1, Dst: c, Src: a, Type: 255}, nil), true},
		{"empty", nil, false},
		{"truncated header", good[:routedHeaderLen-1], false},
		{"ttl 0", appendRouted(nil, routedHeader{TTL: 0, Dst: c, Src: a, Type: FirstAppType}, nil), false},
		{"reserved inner type", appendRouted(nil, routedHeader{TTL: 16, Dst: c, Src: a, Type: TypeRouted}, nil), false},
		{"inner type 15", appendRouted(nil, routedHeader{TTL: 16, Dst: c, Src: a, Type: FirstAppType - 1}, nil), false},
		{"zero dst", appendRouted(nil, routedHeader{TTL: 16, Src: a, Type: FirstAppType}, nil), false},
		{"zero src", appendRouted(nil, routedHeader{TTL: 16, Dst: c, Type: FirstAppType}, nil), false},
		{"src is dst", appendRouted(nil, routedHeader{TTL: 16, Dst: a, Src: a, Type: FirstAppType}, nil), false},
	}
}

func TestDecodeRouted(t *testing.T) {
	for _, tc := range routedCases() {
		t.Run(tc.name, func(t *testing.T) {
			h, inner, err := decodeRouted(tc.b)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if err == nil && !bytes.Equal(appendRouted(nil, h, inner), tc.b) {
				t.Fatal("decode/encode does not round-trip")
			}
		})
	}
	h, inner, err := decodeRouted(routedCases()[0].b)
	if err != nil || h.TTL != 16 || h.Dst != (identity.PeerID{9, 8, 7}) || h.Src != (identity.PeerID{1, 2, 3}) ||
		h.Type != FirstAppType || string(inner) != "payload" {
		t.Fatalf("decoded %+v %q %v", h, inner, err)
	}
}

func FuzzDecodeRouted(f *testing.F) {
	for _, tc := range routedCases() {
		f.Add(tc.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, inner, err := decodeRouted(b)
		if err != nil {
			return
		}
		if h.TTL == 0 || h.Type < FirstAppType || h.Dst.IsZero() || h.Src.IsZero() || h.Dst == h.Src {
			t.Fatalf("accepted an invalid header %+v", h)
		}
		if len(inner) != len(b)-routedHeaderLen {
			t.Fatalf("inner payload %d bytes of %d", len(inner), len(b))
		}
		if !bytes.Equal(appendRouted(nil, h, inner), b) {
			t.Fatal("decode/encode does not round-trip")
		}
	})
}
