package files

import (
	"testing"
	"time"

	"parley/identity"
)

// corruptFrom makes every chunk frame sent by evil fail its hash (the last byte
// of the data flipped), as a source whose copy differs from the manifest would.
func corruptFrom(h *harness, evil identity.PeerID) {
	h.net.hook = func(f *fakeFrame) bool {
		if f.from == evil && f.typ == TypeChunk {
			f.payload[len(f.payload)-1] ^= 0xff
		}
		return true
	}
}

// graceSteps is twice noSourceGrace in harness steps.
const graceSteps = int(2 * noSourceGrace / (250 * time.Millisecond))

// requested counts the chunk indices from asked of to, over the whole run.
func requested(t *testing.T, h *harness, from, to identity.PeerID) int {
	t.Helper()
	n := 0
	for _, f := range h.net.frames() {
		if f.from == from && f.to == to && f.typ == TypeReq {
			r, err := DecodeRequest(f.payload)
			if err != nil {
				t.Fatal(err)
			}
			n += len(r.Indices)
		}
	}
	return n
}

// TestBadSourceStaysDropped: a holder that served a bad chunk is never asked
// again for that download, however long it lasts (several query rounds) and
// however often it says it has the file.
func TestBadSourceStaysDropped(t *testing.T) {
	h := newHarness(t)
	a, b, d := h.add("a"), h.add("b"), h.add("d")
	h.mesh()
	h.rooms["r"] = []identity.PeerID{a.id.ID, b.id.ID}
	const chunks = 48
	src := writeRandom(t, t.TempDir(), "long.bin", chunks*DefaultChunk, 31)
	ids, _ := a.svc.SendFile(identity.PeerID{}, "r", src)
	h.until("offer", 10, func() bool { return hasOffer(b, ids[0]) })
	b.svc.Accept(ids[0])
	h.until("b done", 50, func() bool { _, ok := b.done(ids[0]); return ok })

	evil := b.id.ID
	corruptFrom(h, evil)
	// The honest source gives one chunk per step, so the download spans
	// 48 steps (12 s): more than two query rounds, each a chance to re-add b.
	h.net.limitBulk(a.id.ID, d.id.ID, 1)
	h.rooms["r"] = append(h.rooms["r"], d.id.ID)
	d.svc.cfg.Ranker = fakeRanker{pref: []identity.PeerID{evil, a.id.ID}}
	h.until("d offered", 20, func() bool { return hasOffer(d, ids[0]) })
	d.svc.Accept(ids[0])
	oid, err := ParseOfferID(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	d.svc.mu.Lock()
	root := EncodeRoot(d.svc.xfers[oid].offer.Root)
	d.svc.mu.Unlock()
	h.until("d done", 4*chunks, func() bool {
		// b keeps announcing itself, as a hostile peer may.
		d.svc.HandleDirect(TypeHave)(evil, root)
		_, ok := d.done(ids[0])
		return ok
	})
	dd, _ := d.done(ids[0])
	sameFile(t, src, dd.Path)
	bad := d.stats.Get("files_chunk_bad")
	if bad == 0 {
		t.Fatal("no bad chunk counted")
	}
	if got := d.stats.Get("files_source_dropped_bad"); got != 1 {
		t.Fatalf("files_source_dropped_bad = %d, want 1 (b, once)", got)
	}
	if got := d.stats.Get("files_bytes_bad"); got != bad*DefaultChunk {
		t.Fatalf("files_bytes_bad = %d for %d bad chunks", got, bad)
	}
	if got := d.stats.Get("files_bytes_received"); got != chunks*DefaultChunk {
		t.Fatalf("files_bytes_received = %d, want the file's %d bytes once", got, chunks*DefaultChunk)
	}
	// Only b's first window was ever asked of it (ranked first: initialWindow).
	if n := requested(t, h, d.id.ID, evil); n > initialWindow {
		t.Fatalf("d asked the bad source for %d chunks; it should have stopped after its first window (%d)", n, initialWindow)
	}
	if n := requested(t, h, d.id.ID, a.id.ID); n < chunks {
		t.Fatalf("d asked the honest source for %d of %d chunks", n, chunks)
	}
}

// TestRoomOnlyBadSourceFails: a room file whose only holder serves bad data
// fails with a reason once no other holder answers, leaving nothing in the
// downloads folder.
func TestRoomOnlyBadSourceFails(t *testing.T) {
	h := newHarness(t)
	a, d := h.add("a"), h.add("d")
	h.mesh()
	h.rooms["r"] = []identity.PeerID{a.id.ID, d.id.ID}
	src := writeRandom(t, t.TempDir(), "poisoned.bin", 8*DefaultChunk, 32)
	corruptFrom(h, a.id.ID)
	ids, _ := a.svc.SendFile(identity.PeerID{}, "r", src)
	h.until("offer", 10, func() bool { return hasOffer(d, ids[0]) })
	d.svc.Accept(ids[0])
	h.until("bad chunk", 10, func() bool { return d.stats.Get("files_chunk_bad") > 0 })
	dropped := h.clock.Now()
	failed := func() (Failed, bool) {
		return findEvent(d, func(e Failed) bool { return e.ID == ids[0] })
	}
	h.until("failed", graceSteps, func() bool { _, ok := failed(); return ok })
	e, _ := failed()
	if e.Reason != ReasonNoGoodSource {
		t.Fatalf("reason %q, want %q", e.Reason, ReasonNoGoodSource)
	}
	if waited := h.clock.Now().Sub(dropped); waited < noSourceGrace {
		t.Fatalf("failed %v after the last source was dropped; other holders get %v", waited, noSourceGrace)
	}
	if names := dirNames(t, d.dl); len(names) != 0 {
		t.Fatalf("left in the downloads folder: %v", names)
	}
	if st := d.svc.Transfers()[0]; st.State != StateFailed || st.Reason != ReasonNoGoodSource {
		t.Fatalf("transfer: %+v", st)
	}
	if _, ok := d.done(ids[0]); ok {
		t.Fatal("a file_done for a file no source could serve")
	}
}

// TestRoomBadSourceWaitsForAnotherHolder: the only reachable holder serves
// bad data, but an honest one comes online within the grace; the download
// completes from it instead of failing.
func TestRoomBadSourceWaitsForAnotherHolder(t *testing.T) {
	h := newHarness(t)
	a, b, d := h.add("a"), h.add("b"), h.add("d")
	h.mesh()
	h.rooms["r"] = []identity.PeerID{a.id.ID, b.id.ID}
	src := writeRandom(t, t.TempDir(), "late.bin", 8*DefaultChunk, 33)
	ids, _ := a.svc.SendFile(identity.PeerID{}, "r", src)
	h.until("offer", 10, func() bool { return hasOffer(b, ids[0]) })
	b.svc.Accept(ids[0])
	h.until("b done", 50, func() bool { _, ok := b.done(ids[0]); return ok })
	corruptFrom(h, a.id.ID)
	h.net.setOnline(b.id.ID, false)
	h.rooms["r"] = append(h.rooms["r"], d.id.ID)
	h.until("d offered", 20, func() bool { return hasOffer(d, ids[0]) })
	d.svc.Accept(ids[0])
	h.until("bad chunk", 10, func() bool { return d.stats.Get("files_chunk_bad") > 0 })
	for range 4 {
		h.step()
	}
	h.net.setOnline(b.id.ID, true)
	h.until("d done", graceSteps, func() bool { _, ok := d.done(ids[0]); return ok })
	dd, _ := d.done(ids[0])
	sameFile(t, src, dd.Path)
	if e, ok := findEvent(d, func(e Failed) bool { return e.ID == ids[0] }); ok {
		t.Fatalf("failed although a good holder came: %v", e.Reason)
	}
}
