package chat

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
	"parley/internal/hlc"
	"parley/internal/seal"
	"parley/internal/wire"
)

// sealedMessage is a direct message from `from` to `to`, sealed, as the payload
// of a TypeSealed frame.
func sealedMessage(t testing.TB, from *identity.Identity, to *identity.Identity, id, text string) []byte {
	t.Helper()
	body := EncodeBody(Body{Kind: KindDirect, ID: id, HLC: uint64(hlc.New(time.Now().UnixMilli(), 0)), Sent: time.Now(), Text: text})
	env, err := seal.Seal(from, to.Public, append([]byte{TypeMessage}, body...))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func freshIdentities(t testing.TB, n int) []*identity.Identity {
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

// One neighbour seals each frame with a fresh key. Before, every sealed sender
// got a queue (a preallocated 1,024-slot channel, ~160 KiB) that was never freed:
// on ca67723 this test ends with 1,500 queues held by an idle node. Now a sender
// with no record gets no queue at all, senders with one get at most maxQueues
// queues at once, and every queue is freed once the committer has emptied it.
func TestInboundQueuesCappedAndFreed(t *testing.T) {
	n := newFakeNet(t)
	a, l := n.addNode(1, 0), n.addRaw(2)
	n.link(a.id.ID, l.id.ID)
	a.stop()
	run := a.startPaused() // nothing is committed until the flood is in

	// 1,624 frames: within one link's burst of carrierBurst envelopes.
	const unknown, known = 300, maxQueues + 300
	keys := freshIdentities(t, unknown+known)
	n.know(keys[unknown:]...)
	h := a.svc.HandleDirect(TypeSealed)
	for i, k := range keys {
		h(l.id.ID, sealedMessage(t, k, a.id, fmt.Sprintf("K%05d", i), "x"))
	}
	a.svc.mu.Lock()
	held := len(a.svc.queues)
	a.svc.mu.Unlock()
	t.Logf("after %d unknown and %d known senders: %d queues; unknown dropped %d, queues-full dropped %d",
		unknown, known, held, a.stats.Get("chat_drop_unknown_sender"), a.stats.Get("chat_drop_queues_full"))
	if held > maxQueues {
		t.Errorf("%d queues held, cap %d", held, maxQueues)
	}
	if got := a.stats.Get("chat_drop_unknown_sender"); got != unknown {
		t.Errorf("chat_drop_unknown_sender %d, want %d", got, unknown)
	}
	run()
	a.ev.wait(t, "the admitted frames committed", func(evs []any) bool { return len(receivedOf(evs)) == held })
	eventually(t, "every queue freed", func() bool {
		a.svc.mu.Lock()
		defer a.svc.mu.Unlock()
		return len(a.svc.queues) == 0
	})
}

// The committer serves one frame per author in turn, continuing where the last
// batch stopped: an author with one frame waiting is in the next batch however
// many authors flood. (On ca67723 a batch took 256 frames from each of the first
// 16 queues and the next batch began one queue later: the 1,001st author waited
// ~60 batches.)
func TestHonestFrameInNextBatch(t *testing.T) {
	n := newFakeNet(t)
	a := n.addNode(1, 0)
	a.stop()
	run := a.startPaused() // the test takes the first batch itself
	defer run()
	for i := range 1000 {
		var from identity.PeerID
		from[0], from[1] = byte(i), byte(i>>8)
		for j := range 100 {
			a.svc.enqueueInbound(inbound{from: from, typ: TypeAck, ids: []string{fmt.Sprint(j)}}, false)
		}
	}
	honest := testIdentity(t, 7).ID
	a.svc.enqueueInbound(inbound{from: honest, typ: TypeAck, ids: []string{"H"}}, true)
	batch := a.svc.takeInbound(4096, batchBytes)
	found := false
	for _, it := range batch {
		found = found || it.from == honest
	}
	if !found {
		t.Fatalf("the honest frame is not in the first batch of %d", len(batch))
	}
}

// Direct sealed frames skipped every budget on ca67723 (only routed ones were
// budgeted): a neighbour could make the node open envelopes as fast as its link
// carried them. Now they spend the link's budget and the (link, sender) budget
// like routed ones. synctest's clock makes the refill exact.
func TestDirectSealedFramesRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet(t)
		a, l := n.addNode(1, 0), n.addRaw(2)
		n.link(a.id.ID, l.id.ID)
		h := a.svc.HandleDirect(TypeSealed)
		const extra = 100
		for i := range routedBurst + extra {
			h(l.id.ID, sealedMessage(t, l.id, a.id, fmt.Sprintf("B%05d", i), "x"))
		}
		if got := a.stats.Get("chat_drop_rate"); got != extra {
			t.Errorf("a burst of %d direct sealed frames: chat_drop_rate %d, want %d", routedBurst+extra, got, extra)
		}
		time.Sleep(time.Second) // one second of budget: routedRate more frames
		for i := range routedRate + extra {
			h(l.id.ID, sealedMessage(t, l.id, a.id, fmt.Sprintf("C%05d", i), "x"))
		}
		if got := a.stats.Get("chat_drop_rate"); got != 2*extra {
			t.Errorf("after a second: chat_drop_rate %d, want %d", got, 2*extra)
		}
		a.ev.wait(t, "the admitted frames", func(evs []any) bool { return len(receivedOf(evs)) == routedBurst+routedRate })
		synctest.Wait()
	})
}

// A blocked author's message reaches the user through no path: over its own link,
// sealed and handed over by a neighbour, routed with a forged routed source, or
// handed over by a custodian. On ca67723 chat had no notion of blocking: only the
// overlay refused the blocked peer's link and routed frames naming it as source.
func TestBlockedAuthorNoPath(t *testing.T) {
	n := newFakeNet(t)
	evil := testIdentity(t, 9)
	honest := n.addRaw(2) // a neighbour, a relay and a custodian
	n.know(evil)
	a := n.addNodeWith(1, 0, func(nd *node) {
		nd.blocked = func(id identity.PeerID) bool { return id == evil.ID }
	})
	n.link(a.id.ID, honest.id.ID)

	// Its own link, plain.
	a.svc.HandleDirect(TypeMessage)(evil.ID, rawBody(KindDirect, "", "E1", 1, 1, "plain"))
	// Sealed by it, carried by an honest neighbour.
	a.svc.HandleDirect(TypeSealed)(honest.id.ID, sealedMessage(t, evil, a.id, "E2", "carried"))
	// Routed, with the honest peer forged as the routed source.
	a.svc.HandleRouted(honest.id.ID, honest.id.ID, sealedMessage(t, evil, a.id, "E3", "routed"))
	// Handed over by a custodian, directly and routed.
	var w wire.Writer
	w.Str8("E4")
	w.Raw(sealedMessage(t, evil, a.id, "E4", "custody"))
	a.svc.HandleDirect(TypeHandover)(honest.id.ID, w.B)
	inner, err := seal.Seal(honest.id, a.id.Public, append([]byte{TypeHandover}, w.B...))
	if err != nil {
		t.Fatal(err)
	}
	a.svc.HandleRouted(honest.id.ID, honest.id.ID, inner)
	// A control message from the honest peer, after all of them.
	a.svc.HandleDirect(TypeSealed)(honest.id.ID, sealedMessage(t, honest.id, a.id, "OK", "control"))
	a.waitReceived("OK")
	for _, m := range receivedOf(a.ev.all()) {
		if m.From == evil.ID.String() {
			t.Errorf("the blocked peer's message %s (%q) was shown", m.ID, m.Text)
		}
	}
	if got := a.stats.Get("chat_drop_blocked"); got != 5 {
		t.Errorf("chat_drop_blocked %d, want 5", got)
	}
	// The custodian is told to drop its copies of the blocked author's message.
	honest.ev.wait(t, "handover_done for E4 (twice: direct and routed)", func(evs []any) bool {
		k := 0
		for _, ev := range evs {
			if f, ok := ev.(frame); ok && f.typ == TypeHandoverDone {
				k++
			}
		}
		return k >= 2
	})
}

// The custodian attack on message IDs: K holds alice's message X for bob (it sees
// X's ID), and delivers a message of its own with ID X first. On ca67723 bob then
// took alice's X for a duplicate: acknowledged (alice saw "delivered") and
// dropped. Now messages are told apart by (author, ID).
func TestCustodianCannotShadowMessageID(t *testing.T) {
	n := newFakeNet(t)
	bob, k := n.addNode(1, 0), n.addRaw(2)
	alice := testIdentity(t, 3)
	n.know(alice)
	n.link(bob.id.ID, k.id.ID)
	real := sealedMessage(t, alice, bob.id, "X", "the real one")
	bob.svc.HandleDirect(TypeMessage)(k.id.ID, rawBody(KindDirect, "", "X", 1, 1, "shadow"))
	bob.waitReceived("X")
	var w wire.Writer
	w.Str8("X")
	w.Raw(real)
	bob.svc.HandleDirect(TypeHandover)(k.id.ID, w.B)
	evs := bob.ev.wait(t, "both messages", func(evs []any) bool { return countReceived(evs, "X") == 2 })
	var texts []string
	for _, m := range receivedOf(evs) {
		texts = append(texts, m.From[:6]+":"+m.Text)
	}
	if m, ok, _ := bob.db.GetMessageFrom(alice.ID.String(), "X"); !ok || m.Text != "the real one" {
		t.Fatalf("alice's message not stored: %v (received %v)", ok, texts)
	}
	if got := bob.stats.Get("chat_duplicate"); got != 0 {
		t.Fatalf("chat_duplicate %d", got)
	}
}

// Custody requests are budgeted per link before anything is decoded or stored,
// and come only from peers with a record.
func TestCustodyRequestsThrottled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet(t)
		k, r, s := n.addNode(1, 0), n.addRaw(2), n.addRaw(3)
		n.link(k.id.ID, s.id.ID)
		n.setOnline(r.id.ID, false)
		const extra = 50
		frame := func(i int) []byte {
			env := sealedMessage(t, s.id, r.id, fmt.Sprintf("C%04d", i), "x")
			return EncodeCustody(CustodyFrame{To: r.id.ID, Expires: time.Now().Add(time.Hour), ID: fmt.Sprintf("C%04d", i), Envelope: env})
		}
		h := k.svc.HandleDirect(TypeCustody)
		for i := range custodyBurst + extra {
			h(s.id.ID, frame(i))
		}
		if got := k.stats.Get("custody_drop_rate"); got != extra {
			t.Errorf("custody_drop_rate %d, want %d", got, extra)
		}
		if got := k.stats.Get("custody_held"); got != custodyBurst {
			t.Errorf("custody_held %d, want %d", got, custodyBurst)
		}
		stranger := freshIdentities(t, 1)[0]
		time.Sleep(time.Second)
		h(stranger.ID, frame(9999))
		if got := k.stats.Get("custody_drop_unknown_sender"); got != 1 {
			t.Errorf("custody_drop_unknown_sender %d, want 1", got)
		}
		held, _ := k.db.HeldFor(r.id.ID.String(), time.Now())
		if len(held) != custodyBurst {
			t.Errorf("%d held", len(held))
		}
		synctest.Wait()
	})
}

// Anyone can join a room: a Sybil "member" is a record listing it. Each room
// message then waits in the outbox for every such member; on ca67723 those
// entries never expired. Now a room entry is given up after RoomOutboxTTL
// (direct messages still wait for their peer for ever).
func TestRoomOutboxEntriesExpire(t *testing.T) {
	n := newFakeNet(t)
	a := n.addNode(1, 0)
	info, err := a.rooms.Join("lobby")
	if err != nil {
		t.Fatal(err)
	}
	sybils := freshIdentities(t, 20)
	n.know(sybils...)
	for _, s := range sybils {
		if _, err := a.rooms.UpdatePeer(s.ID, EncodeRoomAds([]roomAd{{ID: info.ID, Name: "lobby"}})); err != nil {
			t.Fatal(err)
		}
	}
	sayOK(t, a, info.ID, "hello room")
	away := n.addRaw(5)
	n.setOnline(away.id.ID, false)
	if _, err := a.svc.Send(away.id.ID, "wait for me"); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.db.OutboxLen(); n != len(sybils)+1 {
		t.Fatalf("outbox %d, want %d", n, len(sybils)+1)
	}
	a.svc.expireOutbox(time.Now().Add(RoomOutboxTTL - time.Minute))
	if n, _ := a.db.OutboxLen(); n != len(sybils)+1 {
		t.Fatalf("expired early: outbox %d", n)
	}
	a.svc.expireOutbox(time.Now().Add(RoomOutboxTTL + time.Minute))
	left, _ := a.db.Outbox("")
	if len(left) != 1 || left[0].To != away.id.ID.String() {
		t.Fatalf("after the TTL the outbox holds %+v, want only the direct message", left)
	}
	if got := a.stats.Get("chat_outbox_expired"); got != uint64(len(sybils)) {
		t.Fatalf("chat_outbox_expired %d", got)
	}
}

// Frames not from their author's own link share one node-wide budget
// (relayedRate, relayedBurst), spent after every other check: many links, each
// within its own budgets, cannot make the node store others' messages faster
// than that. (With 1,000 Sybil authors that had records, 100 links at 50 frames/s
// each made the honest neighbour's p99 1.7 s before it; 21.5 ms after.)
func TestRelayedFramesShareOneBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet(t)
		a := n.addNode(1, 0)
		const links, perLink = 45, 100 // 4,500: past the burst, within every link's own budgets
		authors := freshIdentities(t, links)
		n.know(authors...)
		vias := freshIdentities(t, links)
		for i := range links {
			for j := range perLink {
				a.svc.HandleRouted(authors[i].ID, vias[i].ID, sealedMessage(t, authors[i], a.id, fmt.Sprintf("R%02d-%03d", i, j), "x"))
			}
		}
		if got, want := a.stats.Get("chat_drop_relayed_rate"), uint64(links*perLink-relayedBurst); got != want {
			t.Errorf("chat_drop_relayed_rate %d, want %d", got, want)
		}
		if got := a.stats.Get("chat_drop_rate"); got != 0 {
			t.Errorf("chat_drop_rate %d: a per-link budget was hit", got)
		}
		a.ev.wait(t, "the admitted frames", func(evs []any) bool { return len(receivedOf(evs)) == relayedBurst })
		synctest.Wait()
	})
}
