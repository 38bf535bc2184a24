package discovery

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
	"parley/internal/testwait"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func newTestService(t *testing.T, id *identity.Identity, clk *fakeClock) *Service {
	t.Helper()
	return New(Config{Identity: id, LinkPort: 48556, Now: clk.Now, Log: quietLog})
}

// nextEvent returns a pending table event, failing if there is none.
func nextEvent(t *testing.T, s *Service) Event {
	t.Helper()
	select {
	case ev := <-s.Events():
		return ev
	default:
		t.Fatal("no event was emitted")
		return Event{}
	}
}

func noEvent(t *testing.T, s *Service) {
	t.Helper()
	select {
	case ev := <-s.Events():
		t.Fatalf("unexpected event %+v", ev)
	default:
	}
}

func TestHandleBeacon(t *testing.T) {
	clk := newFakeClock()
	me := testIdentity(t, 1)
	alice := testIdentity(t, 2)
	s := newTestService(t, me, clk)
	src := netip.MustParseAddr("192.0.2.10")

	// A valid announce is merged with the packet's source address.
	s.HandleBeacon(EncodeBeacon(alice, KindAnnounce, 100, 4000, "alice"), src)
	n, ok := s.Table().Get(alice.ID)
	if !ok || n.Name != "alice" || len(n.Addrs) != 1 || n.Addrs[0].AddrPort != netip.AddrPortFrom(src, 4000) || n.Addrs[0].Source != SourceBeacon {
		t.Fatalf("table entry %+v (ok %v)", n, ok)
	}
	if ev := nextEvent(t, s); ev.Outcome != Added || ev.Neighbour.ID != alice.ID {
		t.Fatalf("event %+v, want Added for alice", ev)
	}

	// The same packet again (the other address family's copy) is a duplicate.
	s.HandleBeacon(EncodeBeacon(alice, KindAnnounce, 100, 4000, "alice"), src)
	// An older sequence is a replay.
	s.HandleBeacon(EncodeBeacon(alice, KindAnnounce, 99, 4000, "alice"), netip.MustParseAddr("192.0.2.66"))
	noEvent(t, s)
	if n, _ := s.Table().Get(alice.ID); len(n.Addrs) != 1 {
		t.Fatalf("replay added an address: %+v", n.Addrs)
	}

	// Our own beacon, looped back by multicast, is not a neighbour.
	s.HandleBeacon(EncodeBeacon(me, KindAnnounce, 1, 48556, ""), src)
	if _, ok := s.Table().Get(me.ID); ok {
		t.Fatal("own beacon entered the table")
	}

	// A forged beacon (victim's key, attacker's signature) leaves no trace.
	bob := testIdentity(t, 3)
	s.HandleBeacon(goodRaw(bob).build(alice), src)
	if _, ok := s.Table().Get(bob.ID); ok {
		t.Fatal("forged beacon entered the table")
	}

	// An announce without a port cannot be dialled.
	carol := testIdentity(t, 4)
	s.HandleBeacon(EncodeBeacon(carol, KindAnnounce, 1, 0, "carol"), src)
	if _, ok := s.Table().Get(carol.ID); ok {
		t.Fatal("announce with port 0 entered the table")
	}

	// Garbage of each kind is counted by reason.
	s.HandleBeacon([]byte("short"), src)
	bad := EncodeBeacon(carol, KindAnnounce, 1, 1, "")
	bad[4] = 9
	s.HandleBeacon(bad, src)
	noEvent(t, s)

	// Goodbye removes the neighbour and says so.
	s.HandleBeacon(EncodeBeacon(alice, KindGoodbye, 101, 4000, ""), src)
	if ev := nextEvent(t, s); ev.Outcome != Departed || ev.Neighbour.ID != alice.ID {
		t.Fatalf("event %+v, want Departed for alice", ev)
	}
	if s.Table().Len() != 0 {
		t.Fatalf("table has %d entries after goodbye", s.Table().Len())
	}

	want := map[string]uint64{
		"beacon_received":       9,
		"beacon_accepted":       2,
		"beacon_duplicate":      1,
		"beacon_drop_replay":    1,
		"beacon_self":           1,
		"beacon_drop_forged":    1,
		"beacon_drop_malformed": 1,
		"beacon_drop_size":      1,
		"beacon_drop_version":   1,
	}
	got := s.Stats()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("counter %s = %d, want %d", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected counter %s = %d", k, v)
		}
	}
}

func TestNextSeqStrictlyIncreasesWithStoppedClock(t *testing.T) {
	clk := newFakeClock()
	s := newTestService(t, testIdentity(t, 1), clk)
	prev := s.nextSeq()
	if prev != uint64(clk.Now().UnixMicro()) {
		t.Fatalf("first seq %d is not the clock in µs", prev)
	}
	for range 100 {
		next := s.nextSeq()
		if next <= prev {
			t.Fatalf("seq went from %d to %d", prev, next)
		}
		prev = next
	}
	// A clock that jumps back (NTP step) must not make the sequence go back.
	clk.Advance(-time.Hour)
	if next := s.nextSeq(); next <= prev {
		t.Fatalf("seq went back from %d to %d after a clock step", prev, next)
	}
}

// hub is an in-memory multicast segment: every Send reaches every endpoint,
// including the sender's own (as IP_MULTICAST_LOOP does), with the sender's address
// as source.
type hub struct {
	mu   sync.Mutex
	ends []*hubEnd
}

type hubEnd struct {
	hub  *hub
	addr netip.Addr
	in   chan []byte
	done chan struct{}
	once sync.Once

	mu      sync.Mutex
	sent    int
	dropped int
}

func (h *hub) join(addr string) *hubEnd {
	e := &hubEnd{hub: h, addr: netip.MustParseAddr(addr), in: make(chan []byte, 1024), done: make(chan struct{})}
	h.mu.Lock()
	h.ends = append(h.ends, e)
	h.mu.Unlock()
	return e
}

func (e *hubEnd) Send(pkt []byte) error {
	e.mu.Lock()
	e.sent++
	e.mu.Unlock()
	e.hub.mu.Lock()
	ends := append([]*hubEnd(nil), e.hub.ends...)
	e.hub.mu.Unlock()
	// The source address travels in front of the payload.
	msg := append(e.addr.AsSlice(), pkt...)
	for _, d := range ends {
		select {
		case d.in <- bytes.Clone(msg):
		default:
			// A full socket buffer drops, like UDP. The buffer holds seconds of
			// beacons so that a loaded test machine does not lose the goodbye.
			d.mu.Lock()
			d.dropped++
			d.mu.Unlock()
		}
	}
	return nil
}

func (e *hubEnd) Recv(buf []byte) (int, netip.Addr, error) {
	select {
	case msg := <-e.in:
		src, _ := netip.AddrFromSlice(msg[:4])
		return copy(buf, msg[4:]), src, nil
	case <-e.done:
		return 0, netip.Addr{}, net.ErrClosed
	}
}

func (e *hubEnd) SetInterfaces([]net.Interface) {}

func (e *hubEnd) Close() error {
	e.once.Do(func() { close(e.done) })
	return nil
}

func (e *hubEnd) dropCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dropped
}

func (e *hubEnd) sentCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sent
}

func TestBeaconsOverHub(t *testing.T) {
	var h hub
	alice, bob := testIdentity(t, 1), testIdentity(t, 2)
	noIfaces := func(net.Interface) bool { return false }
	mk := func(id *identity.Identity, name, addr string, port uint16) (*Service, *hubEnd) {
		end := h.join(addr)
		return New(Config{
			Identity: id, LinkPort: port, Name: func() string { return name },
			Beacons: true, Transport: end, KeepIface: noIfaces,
			BeaconInterval: 20 * time.Millisecond, IfacePoll: time.Hour, Log: quietLog,
		}), end
	}
	sa, ea := mk(alice, "alice", "192.0.2.1", 1111)
	sb, eb := mk(bob, "bob", "192.0.2.2", 2222)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	go func() { done <- sa.Run(runCtx) }()
	go func() { done <- sb.Run(runCtx) }()

	waitFor(t, ctx, "both tables to hold the other", func() bool {
		return sa.Table().Len() == 1 && sb.Table().Len() == 1
	})
	na, ok := sb.Table().Get(alice.ID)
	if !ok || na.Name != "alice" || !na.PubKey.Equal(alice.Public) || na.Addrs[0].AddrPort != netip.MustParseAddrPort("192.0.2.1:1111") {
		t.Fatalf("bob's view of alice: %+v", na)
	}
	nb, ok := sa.Table().Get(bob.ID)
	if !ok || nb.Name != "bob" || nb.Addrs[0].AddrPort != netip.MustParseAddrPort("192.0.2.2:2222") {
		t.Fatalf("alice's view of bob: %+v", nb)
	}
	if ev := <-sb.Events(); ev.Outcome != Added || ev.Neighbour.ID != alice.ID {
		t.Fatalf("bob's first event %+v", ev)
	}
	// Beacons keep flowing after the start-up burst (20 ms interval): the burst alone
	// is 5 packets, so more than that proves the periodic sender runs.
	waitFor(t, ctx, "periodic beacons", func() bool { return ea.sentCount() > len(burst)+2 })
	if sa.Stats()["beacon_self"] == 0 {
		t.Error("alice never saw (and dropped) her own looped-back beacon")
	}

	sa.Goodbye()
	waitFor(t, ctx, "bob to drop alice after goodbye", func() bool {
		if eb.dropCount() > 0 {
			t.Fatal("the hub dropped packets for bob: the test machine is too slow for this test")
		}
		_, ok := sb.Table().Get(alice.ID)
		return !ok
	})
	// Alice's Run is still beaconing every 20 ms, and an interface change or a name
	// change also announces: none of that may follow the goodbye, or bob would take
	// her back until the TTL ran out.
	sentAtGoodbye := ea.sentCount()
	sa.Announce()
	if n := ea.sentCount(); n != sentAtGoodbye {
		t.Fatalf("alice sent %d announce(s) after her goodbye", n-sentAtGoodbye)
	}

	stop()
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
		case <-ctx.Done():
			t.Fatal("Run did not return after cancel")
		}
	}
	for _, e := range []*hubEnd{ea, eb} {
		select {
		case <-e.done:
		default:
			t.Fatal("transport still open after Run returned")
		}
	}
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	testwait.UntilContext(t, ctx, 5*time.Millisecond, what, cond)
}

// Without Run (discovery off) the interfaces are still re-read, at most once per
// IfacePoll, when LocalAddrs or OnLink is asked: the node listens on and accepts
// from them either way, and an address that comes later must be listened on.
func TestInterfacesRereadWithoutRun(t *testing.T) {
	if len(Interfaces(nil)) == 0 {
		t.Skip("no interface that discovery could use on this machine")
	}
	// In a bubble the IfacePoll passes on virtual time: exactly one poll later
	// the next ask must re-read the interfaces.
	synctest.Test(t, func(t *testing.T) {
		var keep atomic.Bool
		s := New(Config{Identity: testIdentity(t, 1), IfacePoll: time.Millisecond,
			KeepIface: func(net.Interface) bool { return keep.Load() }})
		if got := s.LocalAddrs(); len(got) != 0 {
			t.Fatalf("LocalAddrs with no interface kept: %v", got)
		}
		keep.Store(true)
		time.Sleep(time.Millisecond)
		if len(s.LocalAddrs()) == 0 {
			t.Fatal("the interfaces were not re-read without Run")
		}
	})
}
