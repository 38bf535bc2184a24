package files

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"parley/identity"
)

// TestOfferAcceptTransfer: nothing is written before accepting; after it the
// file arrives identical under its name, and both sides report done.
func TestOfferAcceptTransfer(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	src := writeRandom(t, t.TempDir(), "photo.jpg", 3*DefaultChunk+12345, 1)
	ids, err := a.svc.SendFile(b.id.ID, "", src)
	if err != nil || len(ids) != 1 {
		t.Fatalf("SendFile: %v %v", ids, err)
	}
	h.until("b sees the offer", 10, func() bool { _, ok := b.offerFor("photo.jpg"); return ok })
	off, _ := b.offerFor("photo.jpg")
	if off.ID != ids[0] || off.Size != 3*DefaultChunk+12345 || off.From != a.id.ID.String() || off.MediaType != "image/jpeg" {
		t.Fatalf("offer event %+v", off)
	}
	h.step()
	if names := dirNames(t, b.dl); len(names) != 0 {
		t.Fatalf("downloads folder before accepting: %v", names)
	}
	if err := b.svc.Accept(off.ID); err != nil {
		t.Fatal(err)
	}
	h.until("b done", 50, func() bool { _, ok := b.done(off.ID); return ok })
	d, _ := b.done(off.ID)
	if d.Path != filepath.Join(b.dl, "photo.jpg") {
		t.Fatalf("landed at %s", d.Path)
	}
	sameFile(t, src, d.Path)
	if names := dirNames(t, b.dl); !slices.Equal(names, []string{"photo.jpg"}) {
		t.Fatalf("downloads folder after: %v (partial file left?)", names)
	}
	h.until("a hears done", 10, func() bool {
		_, ok := findEvent(a, func(e Done) bool { return e.ID == off.ID && e.Out })
		return ok
	})
	if got := b.stats.Get("files_bytes_received"); got != uint64(off.Size) {
		t.Fatalf("received %d bytes, want exactly %d", got, off.Size)
	}
	// A second copy of the same name does not overwrite the first.
	ids, _ = a.svc.SendFile(b.id.ID, "", src)
	h.until("second offer", 10, func() bool { return len(b.all()) > 0 && hasOffer(b, ids[0]) })
	if err := b.svc.Accept(ids[0]); err != nil {
		t.Fatal(err)
	}
	h.until("second done", 50, func() bool { _, ok := b.done(ids[0]); return ok })
	d2, _ := b.done(ids[0])
	if d2.Path != filepath.Join(b.dl, "photo (1).jpg") {
		t.Fatalf("second copy at %s", d2.Path)
	}
	sameFile(t, src, d.Path)
}

func hasOffer(p *peer, id string) bool {
	_, ok := findEvent(p, func(e Offered) bool { return e.ID == id })
	return ok
}

// TestDeclineWritesNothing: a declined offer leaves no file at all, and the
// sender learns of it.
func TestDeclineWritesNothing(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	src := writeRandom(t, t.TempDir(), "x.bin", DefaultChunk, 2)
	ids, err := a.svc.SendFile(b.id.ID, "", src)
	if err != nil {
		t.Fatal(err)
	}
	h.until("offer", 10, func() bool { return hasOffer(b, ids[0]) })
	if err := b.svc.Decline(ids[0]); err != nil {
		t.Fatal(err)
	}
	h.until("a hears decline", 10, func() bool {
		_, ok := findEvent(a, func(e Failed) bool { return e.ID == ids[0] && e.Reason == "declined" })
		return ok
	})
	for i := 0; i < 20; i++ { // a's resends must not reopen it
		h.step()
	}
	if names := dirNames(t, b.dl); len(names) != 0 {
		t.Fatalf("declined offer wrote %v", names)
	}
	if err := b.svc.Accept(ids[0]); err == nil {
		t.Fatal("accepted a declined offer")
	}
	if b.stats.Get("files_bytes_received") != 0 || a.stats.Get("files_bytes_sent") != 0 {
		t.Fatal("bytes moved for a declined offer")
	}
}

// TestRoutedTransferIsSealed: without a direct link every frame is sealed, and the
// file still arrives.
func TestRoutedTransferIsSealed(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b") // no link: routed
	src := writeRandom(t, t.TempDir(), "doc.pdf", 2*DefaultChunk+1, 3)
	ids, err := a.svc.SendFile(b.id.ID, "", src)
	if err != nil {
		t.Fatal(err)
	}
	h.until("offer", 10, func() bool { return hasOffer(b, ids[0]) })
	if err := b.svc.Accept(ids[0]); err != nil {
		t.Fatal(err)
	}
	h.until("done", 50, func() bool { _, ok := b.done(ids[0]); return ok })
	d, _ := b.done(ids[0])
	sameFile(t, src, d.Path)
	chunks := 0
	for _, f := range h.net.frames() {
		if !f.routed {
			t.Fatalf("a frame of type %d went unrouted between unlinked peers", f.typ)
		}
		if f.typ != TypeSealed && f.typ != TypeSealedChunk {
			t.Fatalf("routed frame of type %d is not sealed", f.typ)
		}
		if f.typ == TypeSealedChunk {
			chunks++
		}
	}
	if chunks != 3 {
		t.Fatalf("%d sealed chunks, want 3", chunks)
	}
}

// TestResumeAfterCrash: the receiver dies part-way (no final save); restarted,
// it re-fetches only what its last periodic save did not cover.
func TestResumeAfterCrash(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	const n = 40
	h.net.limitBulk(a.id.ID, b.id.ID, 2) // 2 chunks per step: 20 steps in all
	src := writeRandom(t, t.TempDir(), "big.bin", n*DefaultChunk-7, 4)
	ids := h.offer(a, b, src)
	if err := b.svc.Accept(ids[0]); err != nil {
		t.Fatal(err)
	}
	h.until("half", 100, func() bool { return b.stats.Get("files_bytes_received") >= n/2*DefaultChunk })
	before := b.stats.Get("files_bytes_received")
	b.crash()
	h.step()
	b.start()
	// The restarted node holds the state: no second accept needed.
	h.until("done after restart", 200, func() bool { _, ok := b.done(ids[0]); return ok })
	d, _ := b.done(ids[0])
	sameFile(t, src, d.Path)
	after := b.stats.Get("files_bytes_received")
	total := uint64(n*DefaultChunk - 7)
	t.Logf("received %d before the crash, %d after, of %d (recovered beyond the saved bitmap: %d chunks)",
		before, after, total, b.stats.Get("files_resume_chunk_recovered"))
	// Whatever reached the partial file before the crash is kept: the rest, and
	// nothing more, is fetched again.
	if after != total-before {
		t.Fatalf("fetched %d bytes after a crash at %d of %d; want exactly the %d missing", after, before, total, total-before)
	}
	if names := dirNames(t, b.dl); !slices.Equal(names, []string{"big.bin"}) {
		t.Fatalf("downloads after: %v", names)
	}
}

// TestSenderRestartResumes: the offerer restarts mid-transfer; the download
// stalls while it is away and completes when it returns.
func TestSenderRestartResumes(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	h.net.limitBulk(a.id.ID, b.id.ID, 2)
	src := writeRandom(t, t.TempDir(), "s.bin", 20*DefaultChunk, 5)
	ids := h.offer(a, b, src)
	b.svc.Accept(ids[0])
	h.until("some", 100, func() bool { return b.stats.Get("files_bytes_received") >= 4*DefaultChunk })
	a.crash()
	h.net.setOnline(a.id.ID, false)
	for i := 0; i < 40; i++ {
		h.step()
	}
	a.start()
	h.net.setOnline(a.id.ID, true)
	h.until("done", 200, func() bool { _, ok := b.done(ids[0]); return ok })
	d, _ := b.done(ids[0])
	sameFile(t, src, d.Path)
}

// TestCancelBySender ends the receiver's download and removes the partial file.
func TestCancelBySender(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	h.net.limitBulk(a.id.ID, b.id.ID, 1)
	src := writeRandom(t, t.TempDir(), "c.bin", 10*DefaultChunk, 6)
	ids := h.offer(a, b, src)
	b.svc.Accept(ids[0])
	h.until("some", 20, func() bool { return b.stats.Get("files_bytes_received") > 0 })
	if err := a.svc.Cancel(ids[0]); err != nil {
		t.Fatal(err)
	}
	h.until("b fails", 10, func() bool {
		_, ok := findEvent(b, func(e Failed) bool { return e.ID == ids[0] })
		return ok
	})
	if names := dirNames(t, b.dl); len(names) != 0 {
		t.Fatalf("partial file left: %v", names)
	}
}

// TestLossIsRetried: a quarter of the chunk frames are lost; requests time out
// and are asked again until the file is whole.
func TestLossIsRetried(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	k := 0
	h.net.hook = func(f *fakeFrame) bool {
		if f.typ == TypeChunk {
			k++
			return k%4 != 0
		}
		return true
	}
	src := writeRandom(t, t.TempDir(), "l.bin", 16*DefaultChunk, 7)
	ids := h.offer(a, b, src)
	b.svc.Accept(ids[0])
	h.until("done", 400, func() bool { _, ok := b.done(ids[0]); return ok })
	d, _ := b.done(ids[0])
	sameFile(t, src, d.Path)
	// Losses are found by order (a later chunk arrived) or, for the last ones,
	// by timeout.
	if b.stats.Get("files_chunk_lost")+b.stats.Get("files_request_timeout") < uint64(k/4) {
		t.Fatalf("%d chunk frames lost, %d detected by order, %d by timeout", k/4, b.stats.Get("files_chunk_lost"), b.stats.Get("files_request_timeout"))
	}
}

// TestRoomMultiSource: a file offered into a room; two members fetch it, then a
// newcomer fetches from all three holders. One holder is slow: the newcomer
// draws most bytes from the fast ones, and the slow one never stalls it.
func TestRoomMultiSource(t *testing.T) {
	h := newHarness(t)
	a, b, c, d := h.add("a"), h.add("b"), h.add("c"), h.add("d")
	h.mesh()
	h.rooms["r"] = []identity.PeerID{a.id.ID, b.id.ID, c.id.ID}
	src := writeRandom(t, t.TempDir(), "slides.pdf", 64*DefaultChunk, 8)
	ids, err := a.svc.SendFile(identity.PeerID{}, "r", src)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer{b, c} {
		h.until("offer", 10, func() bool { return hasOffer(p, ids[0]) })
		p.svc.Accept(ids[0])
	}
	h.until("b and c done", 100, func() bool {
		_, ok1 := b.done(ids[0])
		_, ok2 := c.done(ids[0])
		return ok1 && ok2
	})
	// d joins; a is the slow source (the worst-ranked too would be unfair: rank
	// it first, so only the measured rate can move load away from it).
	h.rooms["r"] = append(h.rooms["r"], d.id.ID)
	d.svc.cfg.Ranker = fakeRanker{pref: []identity.PeerID{a.id.ID, b.id.ID, c.id.ID}}
	h.net.limitBulk(a.id.ID, d.id.ID, 1)
	h.net.limitBulk(b.id.ID, d.id.ID, 8)
	h.net.limitBulk(c.id.ID, d.id.ID, 8)
	sent0 := map[*peer]uint64{a: a.stats.Get("files_bytes_sent"), b: b.stats.Get("files_bytes_sent"), c: c.stats.Get("files_bytes_sent")}
	h.until("d offered", 20, func() bool { return hasOffer(d, ids[0]) })
	d.svc.Accept(ids[0])
	steps := 0
	h.until("d done", 100, func() bool { steps++; _, ok := d.done(ids[0]); return ok })
	dd, _ := d.done(ids[0])
	sameFile(t, src, dd.Path)
	from := map[*peer]uint64{}
	for p, s0 := range sent0 {
		from[p] = p.stats.Get("files_bytes_sent") - s0
	}
	total := uint64(64 * DefaultChunk)
	t.Logf("bytes served to d: a(slow)=%d b=%d c=%d in %d steps", from[a], from[b], from[c], steps)
	if from[b] == 0 || from[c] == 0 {
		t.Fatalf("not every fast holder served: %v", from)
	}
	if from[a] > total/5 {
		t.Fatalf("the slow source served %d of %d bytes", from[a], total)
	}
	// Endgame duplicates are only for requests clearly stuck at the slow source.
	if sum := from[a] + from[b] + from[c]; sum > total*5/4 {
		t.Fatalf("sources served %d bytes for a %d-byte file", sum, total)
	}
	// Alone, the slow source would need 64 steps.
	if steps > 32 {
		t.Fatalf("took %d steps; the slow source held the transfer back", steps)
	}
}

// TestBadChunkRefetched: one holder corrupts what it serves. The bad chunk is
// detected, counted, the holder dropped, and the chunk fetched from the other.
func TestBadChunkRefetched(t *testing.T) {
	h := newHarness(t)
	a, b, d := h.add("a"), h.add("b"), h.add("d")
	h.mesh()
	h.rooms["r"] = []identity.PeerID{a.id.ID, b.id.ID}
	src := writeRandom(t, t.TempDir(), "m.bin", 16*DefaultChunk, 9)
	ids, _ := a.svc.SendFile(identity.PeerID{}, "r", src)
	h.until("offer", 10, func() bool { return hasOffer(b, ids[0]) })
	b.svc.Accept(ids[0])
	h.until("b done", 50, func() bool { _, ok := b.done(ids[0]); return ok })
	// b turns malicious towards d; b ranks first so it certainly serves.
	evil := b.id.ID
	h.net.hook = func(f *fakeFrame) bool {
		if f.from == evil && f.typ == TypeChunk {
			f.payload[len(f.payload)-1] ^= 0xff
		}
		return true
	}
	h.rooms["r"] = append(h.rooms["r"], d.id.ID)
	d.svc.cfg.Ranker = fakeRanker{pref: []identity.PeerID{b.id.ID, a.id.ID}}
	h.until("d offered", 20, func() bool { return hasOffer(d, ids[0]) })
	d.svc.Accept(ids[0])
	h.until("d done", 100, func() bool { _, ok := d.done(ids[0]); return ok })
	dd, _ := d.done(ids[0])
	sameFile(t, src, dd.Path)
	if d.stats.Get("files_chunk_bad") == 0 {
		t.Fatal("no bad chunk counted")
	}
	d.svc.mu.Lock()
	defer d.svc.mu.Unlock()
	// The download is over; the evil source must have been dropped from it, which
	// the request frames show: after the first bad chunk, no more requests to b
	// beyond those already in flight (one window).
	reqs := 0
	for _, f := range h.net.frames() {
		if f.from == d.id.ID && f.to == evil && f.typ == TypeReq {
			reqs++
		}
	}
	if reqs > 2 {
		t.Fatalf("d kept asking the malicious source: %d request frames", reqs)
	}
}

// TestVanishedSourceDoesNotStall: a holder goes offline mid-transfer.
func TestVanishedSourceDoesNotStall(t *testing.T) {
	h := newHarness(t)
	a, b, d := h.add("a"), h.add("b"), h.add("d")
	h.mesh()
	h.rooms["r"] = []identity.PeerID{a.id.ID, b.id.ID, d.id.ID}
	src := writeRandom(t, t.TempDir(), "v.bin", 32*DefaultChunk, 10)
	ids, _ := a.svc.SendFile(identity.PeerID{}, "r", src)
	h.until("offer", 10, func() bool { return hasOffer(b, ids[0]) })
	b.svc.Accept(ids[0])
	h.until("b done", 50, func() bool { _, ok := b.done(ids[0]); return ok })
	h.net.limitBulk(a.id.ID, d.id.ID, 2)
	h.net.limitBulk(b.id.ID, d.id.ID, 2)
	d.svc.Accept(ids[0])
	h.until("some", 50, func() bool { return d.stats.Get("files_bytes_received") > 4*DefaultChunk })
	h.net.setOnline(b.id.ID, false)
	h.until("done without b", 100, func() bool { _, ok := d.done(ids[0]); return ok })
	dd, _ := d.done(ids[0])
	sameFile(t, src, dd.Path)
}

// TestFolderOfferAndEmptyFile: a folder becomes one offer per file (flattened
// names); an empty file completes at once.
func TestFolderOfferAndEmptyFile(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	writeRandom(t, dir, "one.txt", 100, 11)
	writeRandom(t, filepath.Join(dir, "sub"), "two.txt", DefaultChunk+1, 12)
	os.WriteFile(filepath.Join(dir, "empty"), nil, 0o644)
	ids, err := a.svc.SendFile(b.id.ID, "", dir)
	if err != nil || len(ids) != 3 {
		t.Fatalf("SendFile folder: %v %v", ids, err)
	}
	h.until("offers", 10, func() bool { return hasOffer(b, ids[0]) && hasOffer(b, ids[1]) && hasOffer(b, ids[2]) })
	for _, id := range ids {
		if err := b.svc.Accept(id); err != nil {
			t.Fatal(err)
		}
	}
	h.until("all done", 50, func() bool {
		for _, id := range ids {
			if _, ok := b.done(id); !ok {
				return false
			}
		}
		return true
	})
	names := dirNames(t, b.dl)
	slices.Sort(names)
	if !slices.Equal(names, []string{"empty", "one.txt", "two.txt"}) {
		t.Fatalf("downloads: %v", names)
	}
}

// TestRankerOrdersFirstRequests: before any rate is measured, the source the
// Ranker puts first gets the wider first window.
func TestRankerOrdersFirstRequests(t *testing.T) {
	h := newHarness(t)
	a, b, c, d := h.add("a"), h.add("b"), h.add("c"), h.add("d")
	h.mesh()
	h.rooms["r"] = []identity.PeerID{a.id.ID, b.id.ID, c.id.ID}
	src := writeRandom(t, t.TempDir(), "f.bin", 32*DefaultChunk, 30)
	ids, _ := a.svc.SendFile(identity.PeerID{}, "r", src)
	for _, p := range []*peer{b, c} {
		h.until("offer", 10, func() bool { return hasOffer(p, ids[0]) })
		p.svc.Accept(ids[0])
		h.until("done", 50, func() bool { _, ok := p.done(ids[0]); return ok })
	}
	h.rooms["r"] = append(h.rooms["r"], d.id.ID)
	d.svc.cfg.Ranker = fakeRanker{pref: []identity.PeerID{c.id.ID, b.id.ID, a.id.ID}}
	// Nothing moves until the test lets it: the sources deliver nothing yet.
	for _, p := range []*peer{a, b, c} {
		h.net.limitBulk(p.id.ID, d.id.ID, 0)
	}
	h.until("d offered", 20, func() bool { return hasOffer(d, ids[0]) })
	start := len(h.net.frames())
	d.svc.Accept(ids[0])
	h.net.settle()
	asked := map[identity.PeerID]int{}
	for _, f := range h.net.frames()[start:] {
		if f.from == d.id.ID && f.typ == TypeReq {
			r, err := DecodeRequest(f.payload)
			if err != nil {
				t.Fatal(err)
			}
			asked[f.to] += len(r.Indices)
		}
	}
	// Sources join as their answers arrive (a, the author, at once), and each
	// is asked at once: the counts depend on that order. Once all are known the
	// ranking decides: c first with the wide window, the others narrow.
	if asked[c.id.ID] != initialWindow {
		t.Fatalf("c, ranked first, was asked for %d chunks, want %d (all: %v)", asked[c.id.ID], initialWindow, asked)
	}
	d.svc.mu.Lock()
	defer d.svc.mu.Unlock()
	dl := d.svc.xfers[mustID(t, ids[0])].dl
	for _, p := range []*peer{a, b} {
		if w := dl.sources[p.id.ID].window; w != minWindow {
			t.Fatalf("%s's window after the ranking: %d, want %d", p.name, w, minWindow)
		}
	}
	if dl.sources[c.id.ID].window != initialWindow || dl.order[0].id != c.id.ID {
		t.Fatal("the best-ranked source is not first with the wide window")
	}
}
