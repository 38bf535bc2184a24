package discovery

import (
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"parley/identity"
)

// fakeClock is a settable clock for Table and Service.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestTableObserveOutcomes(t *testing.T) {
	clk := newFakeClock()
	tab := NewTable(20*time.Second, 4096, clk.Now)
	alice := testIdentity(t, 1)
	base := Sighting{ID: alice.ID, PubKey: alice.Public, Addr: ap("192.0.2.1:4000"), Source: SourceBeacon, Name: "alice", Seq: 10}
	first := clk.Now()

	step := func(name string, s Sighting, want Outcome) {
		t.Helper()
		if got := tab.Observe(s); got != want {
			t.Fatalf("%s: outcome %d, want %d", name, got, want)
		}
	}

	step("first sighting", base, Added)
	n, ok := tab.Get(alice.ID)
	if !ok || n.Name != "alice" || !n.FirstSeen.Equal(first) || len(n.Addrs) != 1 {
		t.Fatalf("after add: %+v", n)
	}

	clk.Advance(time.Second)
	s := base
	s.Seq = 11
	step("refresh of the same address", s, Ignored)
	n, _ = tab.Get(alice.ID)
	if !n.Addrs[0].Seen.Equal(clk.Now()) || !n.LastSeen.Equal(clk.Now()) {
		t.Fatalf("refresh did not bump Seen/LastSeen: %+v", n)
	}

	s.Seq = 12
	s.Addr = ap("[2001:db8::1]:4000")
	step("new address", s, Updated)

	s.Seq = 12
	step("same sequence again (the other family's copy)", s, Duplicate)
	s.Seq = 5
	s.Addr = ap("192.0.2.99:1")
	step("older sequence", s, Replayed)
	n, _ = tab.Get(alice.ID)
	if len(n.Addrs) != 2 {
		t.Fatalf("replayed sighting changed addresses: %+v", n.Addrs)
	}

	step("mDNS sighting without sequence", Sighting{ID: alice.ID, Addr: ap("192.0.2.1:4000"), Source: SourceMDNS}, Updated)
	step("mDNS refresh without sequence", Sighting{ID: alice.ID, Addr: ap("192.0.2.1:4000"), Source: SourceMDNS}, Ignored)
	n, _ = tab.Get(alice.ID)
	if n.Name != "alice" || !n.PubKey.Equal(alice.Public) {
		t.Fatalf("sighting with empty name/key erased known ones: %+v", n)
	}
	if !n.FirstSeen.Equal(first) {
		t.Fatalf("FirstSeen moved to %v", n.FirstSeen)
	}

	s = base
	s.Seq = 13
	s.Name = "alice2"
	step("rename", s, Ignored)
	if n, _ = tab.Get(alice.ID); n.Name != "alice2" {
		t.Fatalf("name = %q after rename", n.Name)
	}

	bye := base
	bye.Seq = 12
	bye.Goodbye = true
	step("replayed goodbye", bye, Replayed)
	if tab.Len() != 1 {
		t.Fatal("replayed goodbye removed the peer")
	}
	bye.Seq = 14
	step("goodbye", bye, Departed)
	if _, ok := tab.Get(alice.ID); ok || tab.Len() != 0 {
		t.Fatal("goodbye left the peer in the table")
	}
	bye.Seq = 15
	step("second goodbye copy", bye, Ignored)
	if tab.Len() != 0 {
		t.Fatal("goodbye of an absent peer added it")
	}

	// Delayed copies of earlier beacons (the other family's socket, a beacon in
	// flight) cannot bring the departed peer back.
	late := base
	late.Seq = 13
	step("announce older than the goodbye", late, Replayed)
	late.Seq = 15
	step("announce with the goodbye's sequence", late, Duplicate)
	if tab.Len() != 0 {
		t.Fatal("a delayed announce brought the departed peer back")
	}
	// mDNS carries no sequence and is not held back.
	step("mDNS after goodbye", Sighting{ID: alice.ID, Addr: ap("192.0.2.1:4000"), Source: SourceMDNS}, Added)
	step("goodbye again", Sighting{ID: alice.ID, Source: SourceBeacon, Seq: 16, Goodbye: true}, Departed)
	// A restart announces with a newer (clock-based) sequence and is welcome.
	late.Seq = 17
	step("announce newer than the goodbye", late, Added)
	step("its duplicate", late, Duplicate)

	bob := testIdentity(t, 2)
	step("goodbye of a never-seen peer", Sighting{ID: bob.ID, Source: SourceBeacon, Seq: 50, Goodbye: true}, Ignored)
	step("then its older announce", Sighting{ID: bob.ID, Addr: ap("192.0.2.2:1"), Source: SourceBeacon, Seq: 40}, Replayed)
	step("then a newer announce", Sighting{ID: bob.ID, Addr: ap("192.0.2.2:1"), Source: SourceBeacon, Seq: 60}, Added)
}

func TestTableDepartureForgottenAfterTTL(t *testing.T) {
	clk := newFakeClock()
	const ttl = 20 * time.Second
	tab := NewTable(ttl, 10, clk.Now)
	id := testIdentity(t, 1).ID
	tab.Observe(Sighting{ID: id, Addr: ap("192.0.2.1:1"), Source: SourceBeacon, Seq: 10})
	if got := tab.Observe(Sighting{ID: id, Source: SourceBeacon, Seq: 11, Goodbye: true}); got != Departed {
		t.Fatalf("goodbye = %d", got)
	}
	clk.Advance(ttl)
	tab.Expire()
	if got := tab.Observe(Sighting{ID: id, Addr: ap("192.0.2.1:1"), Source: SourceBeacon, Seq: 10}); got != Replayed {
		t.Fatalf("old announce at exactly the TTL = %d, want Replayed", got)
	}
	clk.Advance(time.Millisecond)
	tab.Expire()
	if got := tab.Observe(Sighting{ID: id, Addr: ap("192.0.2.1:1"), Source: SourceBeacon, Seq: 10}); got != Added {
		t.Fatalf("old announce after the departure expired = %d, want Added", got)
	}
}

func TestTableDeparturesBounded(t *testing.T) {
	const max = 3
	tab := NewTable(time.Minute, max, newFakeClock().Now)
	for i := range 2 * max {
		id := testIdentity(t, byte(i+1)).ID
		tab.Observe(Sighting{ID: id, Addr: ap("192.0.2.1:1"), Source: SourceBeacon, Seq: 1})
		if got := tab.Observe(Sighting{ID: id, Source: SourceBeacon, Seq: 2, Goodbye: true}); got != Departed {
			t.Fatalf("goodbye %d = %d", i, got)
		}
	}
	tab.mu.Lock()
	n := len(tab.departed)
	tab.mu.Unlock()
	if n > max {
		t.Fatalf("%d departures remembered, bound %d", n, max)
	}
}

func TestTableReplayCheckOnlyWithSequence(t *testing.T) {
	tab := NewTable(time.Minute, 10, newFakeClock().Now)
	id := testIdentity(t, 1).ID
	if got := tab.Observe(Sighting{ID: id, Addr: ap("192.0.2.1:1"), Source: SourceMDNS}); got != Added {
		t.Fatalf("first = %d", got)
	}
	// Repeated Seq 0 sightings are never replays.
	for i := range 3 {
		if got := tab.Observe(Sighting{ID: id, Addr: ap("192.0.2.1:1"), Source: SourceMDNS}); got != Ignored {
			t.Fatalf("repeat %d = %d, want Ignored", i, got)
		}
	}
	// A beacon sequence after Seq-0 sightings is accepted and then enforced.
	if got := tab.Observe(Sighting{ID: id, Addr: ap("192.0.2.1:2"), Source: SourceBeacon, Seq: 1}); got != Updated {
		t.Fatalf("first beacon = %d", got)
	}
	if got := tab.Observe(Sighting{ID: id, Addr: ap("192.0.2.1:3"), Source: SourceBeacon, Seq: 1}); got != Duplicate {
		t.Fatalf("repeated beacon seq = %d, want Duplicate", got)
	}
	if got := tab.Observe(Sighting{ID: id, Addr: ap("192.0.2.1:3"), Source: SourceBeacon, Seq: 2}); got != Updated {
		t.Fatalf("next beacon seq = %d, want Updated", got)
	}
	if got := tab.Observe(Sighting{ID: id, Addr: ap("192.0.2.1:5"), Source: SourceBeacon, Seq: 1}); got != Replayed {
		t.Fatalf("older beacon seq = %d, want Replayed", got)
	}
	// A Seq-0 source still gets through after beacons set a sequence.
	if got := tab.Observe(Sighting{ID: id, Addr: ap("192.0.2.1:4"), Source: SourceMDNS}); got != Updated {
		t.Fatalf("mDNS after beacon = %d, want Updated", got)
	}
}

func TestTableFull(t *testing.T) {
	tab := NewTable(time.Minute, 2, newFakeClock().Now)
	a, b, c := testIdentity(t, 1).ID, testIdentity(t, 2).ID, testIdentity(t, 3).ID
	for _, id := range []identity.PeerID{a, b} {
		if got := tab.Observe(Sighting{ID: id, Addr: ap("192.0.2.1:1"), Source: SourceBeacon, Seq: 1}); got != Added {
			t.Fatalf("add = %d", got)
		}
	}
	if got := tab.Observe(Sighting{ID: c, Addr: ap("192.0.2.3:1"), Source: SourceBeacon, Seq: 1}); got != Full {
		t.Fatalf("third peer = %d, want Full", got)
	}
	if _, ok := tab.Get(c); ok || tab.Len() != 2 {
		t.Fatal("peer added beyond the bound")
	}
	// Known peers are still updated when the table is full.
	if got := tab.Observe(Sighting{ID: a, Addr: ap("192.0.2.1:2"), Source: SourceBeacon, Seq: 2}); got != Updated {
		t.Fatalf("update when full = %d, want Updated", got)
	}
	// A departure makes room.
	if got := tab.Observe(Sighting{ID: b, Source: SourceBeacon, Seq: 2, Goodbye: true}); got != Departed {
		t.Fatalf("goodbye = %d", got)
	}
	if got := tab.Observe(Sighting{ID: c, Addr: ap("192.0.2.3:1"), Source: SourceBeacon, Seq: 1}); got != Added {
		t.Fatalf("after departure = %d, want Added", got)
	}
}

func TestTablePerSourceAddresses(t *testing.T) {
	tab := NewTable(time.Minute, 10, newFakeClock().Now)
	id := testIdentity(t, 1).ID
	addr := ap("192.0.2.1:4000")
	tab.Observe(Sighting{ID: id, Addr: addr, Source: SourceBeacon, Seq: 1})
	if got := tab.Observe(Sighting{ID: id, Addr: addr, Source: SourceMDNS}); got != Updated {
		t.Fatalf("same address from a second source = %d, want Updated", got)
	}
	n, _ := tab.Get(id)
	if len(n.Addrs) != 2 || n.Addrs[0].Source != SourceBeacon || n.Addrs[1].Source != SourceMDNS {
		t.Fatalf("addresses %+v, want one per source", n.Addrs)
	}
	srcs := n.Sources()
	slices.Sort(srcs)
	if !slices.Equal(srcs, []Source{SourceBeacon, SourceMDNS}) {
		t.Fatalf("Sources = %v", srcs)
	}
	// Copies are independent of the table.
	n.Addrs[0].AddrPort = ap("198.51.100.1:1")
	if again, _ := tab.Get(id); again.Addrs[0].AddrPort != addr {
		t.Fatal("Get returned an alias of the table's address slice")
	}
	if l := tab.List(); len(l) != 1 || l[0].ID != id || len(l[0].Addrs) != 2 {
		t.Fatalf("List = %+v", l)
	}
}

func TestTableExpire(t *testing.T) {
	clk := newFakeClock()
	const ttl = 20 * time.Second
	tab := NewTable(ttl, 10, clk.Now)
	a, b := testIdentity(t, 1).ID, testIdentity(t, 2).ID

	tab.Observe(Sighting{ID: a, Addr: ap("192.0.2.1:1"), Source: SourceBeacon, Seq: 1})
	tab.Observe(Sighting{ID: b, Addr: ap("192.0.2.2:1"), Source: SourceBeacon, Seq: 1})
	clk.Advance(10 * time.Second)
	tab.Observe(Sighting{ID: a, Addr: ap("192.0.2.1:1"), Source: SourceMDNS})

	clk.Advance(ttl - 10*time.Second) // exactly TTL after the first sightings
	if gone := tab.Expire(); len(gone) != 0 {
		t.Fatalf("expired at exactly the TTL: %v", gone)
	}
	clk.Advance(time.Millisecond)
	gone := tab.Expire()
	if !slices.Equal(gone, []identity.PeerID{b}) {
		t.Fatalf("gone = %v, want only b", gone)
	}
	n, ok := tab.Get(a)
	if !ok || len(n.Addrs) != 1 || n.Addrs[0].Source != SourceMDNS {
		t.Fatalf("a after first expiry: %+v (ok %v); want only the mDNS address", n, ok)
	}

	clk.Advance(10 * time.Second)
	if gone := tab.Expire(); !slices.Equal(gone, []identity.PeerID{a}) {
		t.Fatalf("gone = %v, want a", gone)
	}
	if tab.Len() != 0 {
		t.Fatalf("table has %d entries after everything expired", tab.Len())
	}
	// A peer that expired is new again when next seen, even with an old sequence:
	// the table forgets everything about it.
	if got := tab.Observe(Sighting{ID: b, Addr: ap("192.0.2.2:1"), Source: SourceBeacon, Seq: 1}); got != Added {
		t.Fatalf("re-sighting after expiry = %d, want Added", got)
	}
}

// A neighbour announcing a new port in every beacon keeps at most
// MaxNeighbourAddrs addresses, the most recently confirmed ones. Fails on
// ca67723: the list grew by one per beacon (1,000 addresses here).
func TestTableAddressesBounded(t *testing.T) {
	clk := newFakeClock()
	tab := NewTable(time.Minute, 10, clk.Now)
	id := testIdentity(t, 1).ID
	const beacons = 1000
	for i := range beacons {
		clk.Advance(time.Millisecond)
		tab.Observe(Sighting{ID: id, Addr: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(1000+i)), Source: SourceBeacon, Seq: uint64(i + 1)})
	}
	n, _ := tab.Get(id)
	if len(n.Addrs) > MaxNeighbourAddrs {
		t.Fatalf("%d addresses kept after %d beacons with new ports, want at most %d", len(n.Addrs), beacons, MaxNeighbourAddrs)
	}
	for _, a := range n.Addrs {
		if a.AddrPort.Port() < 1000+beacons-MaxNeighbourAddrs {
			t.Errorf("kept %v, not one of the %d newest", a.AddrPort, MaxNeighbourAddrs)
		}
	}
	if got := tab.Evicted(); got != beacons-MaxNeighbourAddrs {
		t.Errorf("Evicted = %d, want %d", got, beacons-MaxNeighbourAddrs)
	}
}
