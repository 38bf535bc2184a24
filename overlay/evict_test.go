package overlay

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"parley/identity"
)

// sybilRecord is a record frame of author at seq listing neighbours.
func sybilRecord(t *testing.T, author *identity.Identity, seq uint64, neighbours ...identity.PeerID) []byte {
	t.Helper()
	r := &Record{Seq: seq, Name: "author"}
	for _, n := range neighbours {
		r.Neighbours = append(r.Neighbours, NeighbourInfo{ID: n, RTT: time.Millisecond})
	}
	if err := r.Sign(author); err != nil {
		t.Fatal(err)
	}
	return AppendFrame(nil, TypeRecord, r.Raw())
}

// sybils are n throwaway identities.
func sybils(t *testing.T, n int) []*identity.Identity {
	t.Helper()
	out := make([]*identity.Identity, n)
	for i := range out {
		id, err := identity.Generate()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = id
	}
	return out
}

// A table full of wired Sybils (reachable through the attacker, who vouches for
// them all) does not lock out a newcomer that joins afterwards: its record,
// relayed by an honest neighbour, takes a Sybil's place, and it comes online.
// Before evict.go its record was dropped (record_drop_full) for good.
func TestFullTableAdmitsNewcomer(t *testing.T) {
	const capacity = 8
	a := startNodeCfg(t, 1, "alice", func(c *Config) { c.MaxRecords = capacity }, nil)
	b := startNode(t, 2, "bob")
	dial(t, a, b)
	a.waitEvent("bob online at alice", is(PeerOnline, b.id.ID))

	// The attacker links to alice and wires 20 Sybils into the graph.
	evil := dialRaw(t, 50, a)
	fakes := sybils(t, 20)
	ids := []identity.PeerID{a.id.ID}
	for _, f := range fakes {
		ids = append(ids, f.ID)
	}
	evil.write(sybilRecord(t, evil.id, 1, ids...))
	for _, f := range fakes {
		evil.write(sybilRecord(t, f, 1, evil.id.ID))
	}
	evil.roundTrip(1)
	waitUntil(t, "the table full of online Sybils", func() bool {
		online := 0
		for _, f := range fakes {
			if a.ov.Online(f.ID) {
				online++
			}
		}
		return len(a.ov.Records()) == capacity && online == capacity-2
	})

	c := startNode(t, 3, "carol")
	dial(t, c, b)
	b.waitEvent("carol online at bob", is(PeerOnline, c.id.ID))
	a.waitEvent("carol online at alice", is(PeerOnline, c.id.ID))
	st := a.ov.Stats()
	if st["records_held"] > capacity {
		t.Errorf("alice holds %d records, cap %d", st["records_held"], capacity)
	}
	if st["record_evicted_far"] == 0 {
		t.Errorf("no Sybil evicted for carol: %v", st)
	}
	// Bob and the attacker are linked: their records are reserved.
	if a.ov.RecordOf(b.id.ID) == nil || a.ov.RecordOf(evil.id.ID) == nil {
		t.Errorf("a linked peer's record was evicted")
	}
}

// A direct neighbour's record always gets in, even when every record held is of
// a reachable Sybil: the links are the reserved room.
func TestFullTableAdmitsLinkedPeer(t *testing.T) {
	const capacity = 6
	a := startNodeCfg(t, 1, "alice", func(c *Config) { c.MaxRecords = capacity }, nil)
	evil := dialRaw(t, 50, a)
	fakes := sybils(t, 12)
	ids := []identity.PeerID{a.id.ID}
	for _, f := range fakes {
		ids = append(ids, f.ID)
	}
	evil.write(sybilRecord(t, evil.id, 1, ids...))
	for _, f := range fakes {
		evil.write(sybilRecord(t, f, 1, evil.id.ID))
	}
	evil.roundTrip(1)
	waitUntil(t, "the table full", func() bool { return len(a.ov.Records()) == capacity })
	b := startNode(t, 2, "bob")
	dial(t, b, a)
	a.waitEvent("bob online at alice", is(PeerOnline, b.id.ID))
	if held := a.ov.Stats()["records_held"]; held > capacity {
		t.Errorf("alice holds %d records, cap %d", held, capacity)
	}
}

// Records of authors never online expire when unheard for recordExpiry;
// reserved (roster) records and those of peers once online do not.
func TestUnreachableRecordsExpire(t *testing.T) {
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	a := startNodeCfg(t, 1, "alice", func(c *Config) { c.Now = now }, nil)
	kept := testIdentity(t, 60)
	r := &Record{Seq: 1, Name: "kept"}
	if err := r.Sign(kept); err != nil {
		t.Fatal(err)
	}
	a.ov.Seed(r)
	// Bob was online, then vanished: his record stays (chat seals for him by it).
	b := startNode(t, 2, "bob")
	dial(t, a, b)
	a.waitEvent("bob online", is(PeerOnline, b.id.ID))
	b.halt()
	a.waitEvent("bob gone", is(PeerOffline, b.id.ID))
	p := dialRaw(t, 50, a)
	fakes := sybils(t, 5)
	for i, f := range fakes {
		frame := sybilRecord(t, f, 1)
		if i == 0 {
			gb := &Record{Seq: 1, Offline: true}
			if err := gb.Sign(f); err != nil {
				t.Fatal(err)
			}
			frame = AppendFrame(nil, TypeRecord, gb.Raw())
		}
		p.write(frame)
	}
	p.roundTrip(1)
	a.ov.recompute()
	if n := len(a.ov.Records()); n != 2+len(fakes) {
		t.Fatalf("%d records before expiry, want %d", n, 2+len(fakes))
	}
	skew.Store(int64(recordExpiry + time.Second))
	a.ov.recompute()
	if n := len(a.ov.Records()); n != 2 || a.ov.RecordOf(kept.ID) == nil || a.ov.RecordOf(b.id.ID) == nil {
		t.Errorf("after expiry alice holds %d records, want the roster's and bob's", n)
	}
	st := a.ov.Stats()
	if st["record_expired_unreachable"] != 4 || st["record_expired_offline"] != 1 {
		t.Errorf("expiry counters: unreachable %d, offline %d; want 4 and 1", st["record_expired_unreachable"], st["record_expired_offline"])
	}
}

// A new link gets the records nearest first: its own view of who is online must
// not depend on which quarter of a flooded table fits in the link's queue.
func TestSyncSendsNearRecordsFirst(t *testing.T) {
	a := startNode(t, 1, "alice")
	b := startNode(t, 2, "bob")
	dial(t, a, b)
	a.waitEvent("bob online at alice", is(PeerOnline, b.id.ID))
	flooder := dialRaw(t, 50, a)
	for _, f := range sybils(t, 300) {
		flooder.write(sybilRecord(t, f, 1))
	}
	flooder.roundTrip(1)
	p := dialRaw(t, 51, a)
	var order []identity.PeerID
	for len(order) < 2 {
		f := p.readUntil("a record", func(f Frame) bool { return f.Type == TypeRecord })
		if id, _, ok := peekRecord(f.Payload); ok {
			order = append(order, id)
		}
	}
	// Alice's own, then her linked peer's (the flooder sent no record of its own).
	if order[0] != a.id.ID || order[1] != b.id.ID {
		t.Errorf("records synced first: %v; want alice %v, then bob %v", order, a.id.ID, b.id.ID)
	}
}

// An online/offline event dropped because the channel was full (a flood of
// records) is sent again, for the peer's current state, once there is room.
// Before, the consumer never learnt that the peer came online.
func TestDroppedPresenceEventIsResent(t *testing.T) {
	ov, err := New(Config{
		Identity: testIdentity(t, 1), Listen: "127.0.0.1:0",
		LocalAddrs: func() []netip.Addr { return []netip.Addr{loopback} },
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	for len(ov.events) < cap(ov.events) { // a consumer that fell behind
		ov.events <- Event{Kind: RecordChanged}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ov.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	b := startNode(t, 2, "bob")
	dctx, dcancel := context.WithTimeout(context.Background(), waitLimit)
	defer dcancel()
	if err := b.ov.Dial(dctx, ov.cfg.Identity.ID, []netip.AddrPort{netip.AddrPortFrom(loopback, ov.Port())}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "bob online at alice", func() bool { return ov.Online(b.id.ID) })
	if ov.Stats()["overlay_events_dropped"] == 0 {
		t.Fatal("the full channel dropped nothing")
	}
	// The consumer catches up: bob's PeerOnline must be among what it reads.
	deadline := time.After(waitLimit)
	for {
		select {
		case ev := <-ov.events:
			if ev.Kind == PeerOnline && ev.Peer == b.id.ID {
				waitUntil(t, "presence_resent counted", func() bool { return ov.Stats()["presence_resent"] > 0 })
				return
			}
		case <-deadline:
			t.Fatal("bob's PeerOnline never reached the consumer")
		}
	}
}
