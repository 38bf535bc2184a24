package files

import (
	"os"
	"testing"
	"time"
)

// TestOfferFloodIsBounded: a peer sending offer after offer gets 64 stored; the
// rest are dropped and counted.
func TestOfferFloodIsBounded(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	for i := 0; i < maxPendingPerPeer+6; i++ {
		o := &Offer{ID: OfferID{byte(i), 1}, Peer: b.id.ID, Created: time.Unix(1, 0), Name: "x", Size: 10,
			ChunkSize: DefaultChunk, Chunks: []Hash{{byte(i)}}}
		o.Root = RootOf(o.Chunks)
		b.svc.handle(a.id.ID, TypeOffer, SignOffer(o, a.id))
	}
	if got := len(b.svc.Transfers()); got != maxPendingPerPeer {
		t.Fatalf("%d offers kept, want %d", got, maxPendingPerPeer)
	}
	if n := b.stats.Get("files_offer_dropped_limit"); n != 6 {
		t.Fatalf("dropped %d, want 6", n)
	}
	// An offer signed by someone else than the peer it came from is refused.
	c := h.add("c")
	o := &Offer{ID: OfferID{0xff}, Peer: b.id.ID, Name: "y", Size: 1, ChunkSize: DefaultChunk, Chunks: []Hash{{}}}
	o.Root = RootOf(o.Chunks)
	before := b.stats.Get("files_drop_malformed")
	b.svc.handle(a.id.ID, TypeOffer, SignOffer(o, c.id))
	if b.stats.Get("files_drop_malformed") != before+1 {
		t.Fatal("an offer relayed under another author was not refused")
	}
}

// TestChangedSourceFails: the sender's file changes after the offer; the
// receiver fails rather than waiting forever. The sender checks what it
// serves (stamps, or a hash inside the racy window), so it notices first and cancels (files_chunk_changed); no changed
// chunk reaches the receiver (TestChangedChunkNotServed; a source that sends
// bad chunks anyway is badsource_test.go's).
func TestChangedSourceFails(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	src := writeRandom(t, t.TempDir(), "draft.txt", 4*DefaultChunk, 20)
	ids := h.offer(a, b, src)
	writeRandom(t, "", src, 4*DefaultChunk, 21) // edited in place
	b.svc.Accept(ids[0])
	h.until("failed", 20, func() bool {
		_, ok := findEvent(b, func(e Failed) bool { return e.ID == ids[0] })
		return ok
	})
	if a.stats.Get("files_chunk_changed") == 0 || b.stats.Get("files_chunk_bad") != 0 {
		t.Fatalf("sender counted %d changed chunks, receiver %d bad: want > 0 and 0",
			a.stats.Get("files_chunk_changed"), b.stats.Get("files_chunk_bad"))
	}
	if names := dirNames(t, b.dl); len(names) != 0 {
		t.Fatalf("left behind: %v", names)
	}
}

// TestRequestsOutsideTheAudienceAreDenied: a peer the file was not offered to
// gets nothing, even with the right root.
func TestRequestsOutsideTheAudienceAreDenied(t *testing.T) {
	h := newHarness(t)
	a, b, eve := h.add("a"), h.add("b"), h.add("eve")
	h.mesh()
	src := writeRandom(t, t.TempDir(), "secret.txt", DefaultChunk, 22)
	ids := h.offer(a, b, src)
	root := a.svc.xfers[mustID(t, ids[0])].offer.Root
	a.svc.handle(eve.id.ID, TypeReq, EncodeRequest(Request{Root: root, Indices: []uint32{0}}))
	a.svc.handle(eve.id.ID, TypeQuery, EncodeRoot(root))
	h.step()
	if a.stats.Get("files_request_denied") != 1 || a.stats.Get("files_bytes_sent") != 0 {
		t.Fatalf("a served an outsider: %v", a.stats.Snapshot())
	}
	for _, f := range h.net.frames() {
		if f.to == eve.id.ID {
			t.Fatalf("eve got a frame of type %d", f.typ)
		}
	}
	// Plain frames that arrive routed are dropped (only sealed ones may travel so).
	b.svc.HandleRouted(TypeChunk)(a.id.ID, eve.id.ID, AppendChunk(nil, root, 0, []byte("x")))
	if b.stats.Get("files_drop_unsealed_routed") != 1 {
		t.Fatal("a plain routed chunk was not dropped")
	}
}

func mustID(t *testing.T, s string) OfferID {
	id, err := ParseOfferID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestCancelByReceiverDeletesPartial: the receiver cancels mid-way; the partial
// file goes and the sender is told.
func TestCancelByReceiverDeletesPartial(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	h.net.limitBulk(a.id.ID, b.id.ID, 1)
	src := writeRandom(t, t.TempDir(), "r.bin", 8*DefaultChunk, 23)
	ids := h.offer(a, b, src)
	b.svc.Accept(ids[0])
	h.until("some", 20, func() bool { return b.stats.Get("files_bytes_received") > 0 })
	if names := dirNames(t, b.dl); len(names) != 1 {
		t.Fatalf("partial file while downloading: %v", names)
	}
	if err := b.svc.Cancel(ids[0]); err != nil {
		t.Fatal(err)
	}
	h.until("a told", 10, func() bool {
		_, ok := findEvent(a, func(e Failed) bool { return e.ID == ids[0] && e.Out })
		return ok
	})
	if names := dirNames(t, b.dl); len(names) != 0 {
		t.Fatalf("after cancel: %v", names)
	}
	if _, err := os.Stat(src); err != nil {
		t.Fatal("the sender's file is gone")
	}
}

// TestLossInferredFromOrder: a source answers in order, so a chunk that is
// skipped (dropped by a relay) is asked again as soon as a later one arrives,
// without waiting for a timeout.
func TestLossInferredFromOrder(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	dropped := false
	h.net.hook = func(f *fakeFrame) bool {
		if f.typ == TypeChunk && !dropped {
			if c, err := DecodeChunk(f.payload); err == nil && c.Index == 1 {
				dropped = true
				return false
			}
		}
		return true
	}
	src := writeRandom(t, t.TempDir(), "o.bin", 8*DefaultChunk, 24)
	ids := h.offer(a, b, src)
	b.svc.Accept(ids[0])
	// Well under the 2 s (8 steps) a timeout would take.
	h.until("done", 3, func() bool { _, ok := b.done(ids[0]); return ok })
	if !dropped || b.stats.Get("files_chunk_lost") != 1 || b.stats.Get("files_request_timeout") != 0 {
		t.Fatalf("dropped %v, lost %d, timeouts %d", dropped, b.stats.Get("files_chunk_lost"), b.stats.Get("files_request_timeout"))
	}
	d, _ := b.done(ids[0])
	sameFile(t, src, d.Path)
}

// TestWindowBoundsOutstandingRequests: however slow the source, the receiver
// never has more than its window of requests outstanding there.
func TestWindowBoundsOutstandingRequests(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	h.net.limitBulk(a.id.ID, b.id.ID, 1)
	src := writeRandom(t, t.TempDir(), "w.bin", 96*DefaultChunk, 25)
	ids := h.offer(a, b, src)
	b.svc.Accept(ids[0])
	peak, late, steps := 0, 0, 0
	h.until("done", 200, func() bool {
		steps++
		b.svc.mu.Lock()
		defer b.svc.mu.Unlock()
		x := b.svc.xfers[mustID(t, ids[0])]
		if x.dl == nil {
			return x.rec.State == StateDone
		}
		for _, src := range x.dl.sources {
			peak = max(peak, len(src.out))
			if steps > 12 { // once the rate is measured
				late = max(late, len(src.out))
			}
			if len(src.out) > maxWindow {
				t.Fatalf("%d requests outstanding, window limit %d", len(src.out), maxWindow)
			}
		}
		return false
	})
	// Once measured, a source delivering 4 chunks a second keeps a window of a
	// few chunks (2 + 300 ms of its rate), not 32.
	if late > minWindow+2 {
		t.Fatalf("%d requests outstanding at a 1 MB/s source after its rate was measured", late)
	}
	t.Logf("outstanding: peak %d during slow start, %d after", peak, late)
}
