package chat

import (
	"bytes"
	"testing"
	"time"

	"parley/identity"
	"parley/internal/seal"
	"parley/store"
)

// TestCustodyHandsOverWhileSenderAway: A writes to absent R; A's message is also
// entrusted to K. A stops; R returns and gets the message from K, once; K drops it.
// When A returns, its own retransmission is a duplicate and A learns of delivery.
func TestCustodyHandsOverWhileSenderAway(t *testing.T) {
	n := newFakeNet(t)
	k := n.addNode(2, 0)
	r := n.addNode(3, 0)
	a := n.addNodeWith(1, 0, func(nd *node) { nd.custodian = k })
	n.link(a.id.ID, k.id.ID)
	n.link(k.id.ID, r.id.ID)
	n.link(a.id.ID, r.id.ID)
	n.setOnline(r.id.ID, false)

	m := a.send(r, "kept for you")
	eventually(t, "K to hold the message", func() bool { return k.stats.Get("custody_held") == 1 })
	eventually(t, "A to see the custody ack", func() bool { return a.stats.Get("custody_acked") == 1 })
	if n := a.stats.Get("custody_unacked"); n != 0 {
		t.Fatalf("custody_unacked %d after an ack", n)
	}
	a.stop()
	n.setOnline(a.id.ID, false)

	n.setOnline(r.id.ID, true)
	k.svc.PeerReachable(r.id.ID)
	r.waitReceived(m.ID)
	eventually(t, "K to drop what it handed over", func() bool { return k.stats.Get("custody_released") == 1 })
	if held, _ := k.db.HeldFor(r.id.ID.String(), time.Now()); len(held) != 0 {
		t.Fatalf("K still holds %d envelopes", len(held))
	}
	if h := r.history(store.DirectConv(a.id.ID.String())); len(h) != 1 || h[0].From != a.id.ID.String() {
		t.Fatalf("R's history: %+v", h)
	}

	a.start()
	n.setOnline(a.id.ID, true)
	a.svc.PeerReachable(r.id.ID)
	a.waitDelivered(m.ID, r.id.ID)
	if got := countReceived(r.ev.all(), m.ID); got != 1 {
		t.Fatalf("R shown the message %d times", got)
	}
}

// A custodian that takes a request and never acknowledges it (here a peer
// that swallows every frame) is reported once as failed, so the node ranks it
// lower next time; one that acknowledges is not (the test above: custody_acked,
// and no custody_unacked).
func TestUnackedCustodyCountsAgainstTheCustodian(t *testing.T) {
	n := newFakeNet(t)
	sink := n.addRaw(2)
	r := n.addNode(3, 0)
	failed := make(chan identity.PeerID, 4)
	a := n.addNodeWith(1, 50*time.Millisecond, func(nd *node) {
		nd.custodianID, nd.custodyFailed, nd.custodyWait = sink.id.ID, failed, 200*time.Millisecond
	})
	n.link(a.id.ID, sink.id.ID)
	n.link(a.id.ID, r.id.ID)
	n.setOnline(r.id.ID, false)
	a.send(r, "for a custodian that never answers")
	eventually(t, "the request to reach the custodian", func() bool { return a.stats.Get("custody_entrusted") >= 1 })
	select {
	case got := <-failed:
		if got != sink.id.ID {
			t.Fatalf("reported %s, want the silent custodian %s", got.Short(), sink.id.ID.Short())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the silent custodian was never reported")
	}
	if got, sent := a.stats.Get("custody_unacked"), a.stats.Get("custody_entrusted"); got < 1 || got > sent {
		t.Fatalf("custody_unacked %d for %d requests", got, sent)
	}
}

// TestCustodyRefusesForeignOrBrokenEnvelopes: a custodian keeps only genuine
// envelopes from the peer handing them over, addressed to the named recipient.
func TestCustodyRefusesForeignOrBrokenEnvelopes(t *testing.T) {
	n := newFakeNet(t)
	k := n.addNode(2, 0)
	r := n.addNode(3, 0)
	a := n.addNode(1, 0)
	mallory := testIdentity(t, 9)
	n.know(mallory)
	env, err := seal.Seal(a.id, r.id.Public, append([]byte{TypeMessage}, EncodeBody(Body{Kind: KindDirect, ID: "X1", HLC: 1, Sent: time.Now(), Text: "hi"})...))
	if err != nil {
		t.Fatal(err)
	}
	frameFor := func(to identity.PeerID, env []byte) []byte {
		return EncodeCustody(CustodyFrame{To: to, Expires: time.Now().Add(time.Hour), ID: "X1", Envelope: env})
	}
	// Mallory hands over A's envelope: not hers, refused.
	k.svc.handle(mallory.ID, mallory.ID, TypeCustody, frameFor(r.id.ID, env), false)
	// A names the wrong recipient.
	k.svc.handle(a.id.ID, a.id.ID, TypeCustody, frameFor(a.id.ID, env), false)
	// A tampered envelope.
	bad := bytes.Clone(env)
	bad[len(bad)/2] ^= 1
	k.svc.handle(a.id.ID, a.id.ID, TypeCustody, frameFor(r.id.ID, bad), false)
	// Garbage.
	k.svc.handle(a.id.ID, a.id.ID, TypeCustody, []byte{1, 2, 3}, false)
	if got := k.stats.Get("custody_drop_invalid"); got != 3 {
		t.Fatalf("custody_drop_invalid = %d, want 3", got)
	}
	if got := k.stats.Get("custody_drop_malformed"); got != 1 {
		t.Fatalf("custody_drop_malformed = %d, want 1", got)
	}
	if held, _ := k.db.HeldFor(r.id.ID.String(), time.Now()); len(held) != 0 {
		t.Fatalf("K kept %d bad envelopes", len(held))
	}
	// The genuine one is kept.
	k.svc.handle(a.id.ID, a.id.ID, TypeCustody, frameFor(r.id.ID, env), false)
	if held, _ := k.db.HeldFor(r.id.ID.String(), time.Now()); len(held) != 1 {
		t.Fatalf("K holds %d envelopes, want 1", len(held))
	}
}

func TestCustodyCodecs(t *testing.T) {
	f := CustodyFrame{To: identity.PeerID{7}, Expires: time.UnixMilli(1_800_000_000_000), ID: "ID1", Envelope: []byte("env")}
	got, err := DecodeCustody(EncodeCustody(f))
	if err != nil || got.To != f.To || !got.Expires.Equal(f.Expires) || got.ID != f.ID || !bytes.Equal(got.Envelope, f.Envelope) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, make([]byte, 16), EncodeCustody(CustodyFrame{To: identity.PeerID{7}, ID: "x"}), EncodeCustody(CustodyFrame{ID: "x", Envelope: []byte("e")})} {
		if _, err := DecodeCustody(bad); err == nil {
			t.Errorf("DecodeCustody(%x) accepted", bad)
		}
	}
	if id, env, err := DecodeHandover(append([]byte{2, 'a', 'b'}, 'e')); err != nil || id != "ab" || string(env) != "e" {
		t.Fatalf("handover: %q %q %v", id, env, err)
	}
	for _, bad := range [][]byte{nil, {0}, {2, 'a', 'b'}, {5, 'a'}} {
		if _, _, err := DecodeHandover(bad); err == nil {
			t.Errorf("DecodeHandover(%x) accepted", bad)
		}
	}
}

func FuzzDecodeCustody(f *testing.F) {
	f.Add(EncodeCustody(CustodyFrame{To: identity.PeerID{7}, Expires: time.UnixMilli(1), ID: "ID1", Envelope: []byte("env")}))
	f.Add([]byte{})
	f.Add(make([]byte, 30))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeCustody(b)
		if err != nil {
			return
		}
		if fr.ID == "" || fr.To.IsZero() || len(fr.Envelope) == 0 {
			t.Fatalf("accepted an incomplete frame: %+v", fr)
		}
		again, err := DecodeCustody(EncodeCustody(fr))
		if err != nil || again.ID != fr.ID || again.To != fr.To || !bytes.Equal(again.Envelope, fr.Envelope) {
			t.Fatalf("re-encode changed the frame: %+v vs %+v (%v)", again, fr, err)
		}
	})
}

func FuzzDecodeHandover(f *testing.F) {
	f.Add(append([]byte{2, 'a', 'b'}, 'e'))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, env, err := DecodeHandover(b)
		if err == nil && (id == "" || len(env) == 0) {
			t.Fatalf("accepted empty id or envelope")
		}
	})
}
