package files

import (
	"crypto/sha256"
	"os"
	"testing"
	"time"
)

// Serving on the file's stamps instead of hashing every chunk again
// (sourceid.go). Where the platform gives no inode and ctime (Windows),
// serving hashes every chunk, and only the assertions about that differ.

// stampsKnown says whether this platform serves on stamps.
func stampsKnown(t *testing.T, path string) bool {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	_, ok := idOf(fi)
	return ok
}

// settle shortens p's racy window to margin and waits (on the real clock the
// file system stamps with) until the file at path is outside it.
func settle(t *testing.T, p *peer, path string, margin time.Duration) {
	t.Helper()
	p.svc.racy = margin
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := idOf(fi)
	if !ok {
		return
	}
	for time.Now().UnixNano()-id.ctime <= margin.Nanoseconds() {
		time.Sleep(margin / 4)
	}
}

// A file edited in place after the offer, same size, its mtime put back as it
// was: only the ctime tells, and the sender refuses to serve it without having
// hashed a chunk (files_serve_rehashed 0: the stamps caught it, not a hash).
func TestRewriteWithRestoredMtimeNotServed(t *testing.T) {
	h := newHarness(t)
	sender, victim := h.add("sender"), h.add("victim")
	h.mesh()
	src := writeRandom(t, t.TempDir(), "a.bin", 3*DefaultChunk, 31)
	// 20 ms: above a kernel tick (≤ 10 ms), the step of the stamps' clock.
	settle(t, sender, src, 20*time.Millisecond)
	ids := h.offer(sender, victim, src)
	before, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(src, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("rewritten, stamps restored"), DefaultChunk+10); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(src, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	if !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
		t.Fatalf("the test's rewrite left mtime %v size %d, want %v %d", after.ModTime(), after.Size(), before.ModTime(), before.Size())
	}
	acceptChangedSource(t, h, sender, victim, ids[0])
	if got := sender.stats.Get("files_serve_rehashed"); stampsKnown(t, src) && got != 0 {
		t.Errorf("the sender hashed %d chunks to notice; want 0 (the ctime alone tells)", got)
	}
	// Where the stamps stand (Linux) the first chunk already fails the check
	// and nothing is sent; where every chunk is hashed (Windows) the chunks
	// before the changed one are sent, and the changed one is not.
	bytes := victim.stats.Get("files_bytes_received")
	if got := victim.stats.Get("files_chunk_bad"); got != 0 || (stampsKnown(t, src) && bytes != 0) {
		t.Errorf("the recipient got %d bad chunks and %d bytes, want none", got, bytes)
	}
	if ev, _ := findEvent(victim, func(e Failed) bool { return e.ID == ids[0] }); ev.Reason == ReasonSenderCorrupt {
		t.Errorf("recipient failed with %q: a changed chunk was served", ev.Reason)
	}
	if _, ok := findEvent(sender, func(e Failed) bool { return e.ID == ids[0] && e.Out }); !ok {
		t.Error("the sender's user was not told the offer ended")
	}
}

// An unchanged file offered outside the racy window is served without a
// single chunk hashed again; one offered as soon as it was written is hashed
// as it is served, every chunk, since its stamps may not have moved yet.
func TestServedOnStampsUnlessRacy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		settle bool
	}{{"settled", true}, {"racy", false}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			a, b := h.add("a"), h.add("b")
			h.mesh()
			const chunks = 3
			src := writeRandom(t, t.TempDir(), "b.bin", chunks*DefaultChunk+7, 32)
			if tc.settle {
				settle(t, a, src, 20*time.Millisecond)
			}
			ids := h.offer(a, b, src)
			if err := b.svc.Accept(ids[0]); err != nil {
				t.Fatal(err)
			}
			h.until("b done", 50, func() bool { _, ok := b.done(ids[0]); return ok })
			d, _ := b.done(ids[0])
			sameFile(t, src, d.Path)
			want := uint64(chunks + 1)
			if tc.settle && stampsKnown(t, src) {
				want = 0
			}
			if got := a.stats.Get("files_serve_rehashed"); got != want {
				t.Errorf("files_serve_rehashed = %d, want %d", got, want)
			}
		})
	}
}

// A seed whose stamps were never taken (restored after a restart, or a
// finished download) takes them at its first serve and hashes each chunk
// once; after that the stamps stand for it, until they move.
func TestFirstServeTakesStamps(t *testing.T) {
	h := newHarness(t)
	a := h.add("a")
	src := writeRandom(t, t.TempDir(), "c.bin", 2*DefaultChunk, 33)
	if !stampsKnown(t, src) {
		t.Skip("no inode and ctime on this platform: every serve hashes")
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	x := &xfer{offer: &Offer{ChunkSize: DefaultChunk, Size: uint64(len(data)),
		Chunks: []Hash{sha256.Sum256(data[:DefaultChunk]), sha256.Sum256(data[DefaultChunk:])}}}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	settle(t, a, src, 20*time.Millisecond)
	serve := func(i uint32) bool {
		t.Helper()
		t0 := time.Now()
		buf := make([]byte, DefaultChunk)
		if _, err := f.ReadAt(buf, int64(i)*DefaultChunk); err != nil {
			t.Fatal(err)
		}
		ok, err := a.svc.sourceIntact(x, f, i, buf, t0)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for round, want := range []uint64{1, 1, 1} { // hashed the first time only
		if !serve(0) {
			t.Fatalf("round %d: an unchanged chunk refused", round)
		}
		if got := a.stats.Get("files_serve_rehashed"); got != want {
			t.Fatalf("round %d: files_serve_rehashed = %d, want %d", round, got, want)
		}
	}
	if !x.src.known || x.src.all || !x.src.chunkTrusted(0) || x.src.chunkTrusted(1) {
		t.Fatalf("stamps %+v: want taken, chunk 0 trusted alone", x.src)
	}
	// Rewritten with the same bytes' length and mtime put back: refused,
	// the trusted chunk as well as the other.
	fi, _ := os.Stat(src)
	if err := os.WriteFile(src, append([]byte("x"), data[1:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(src, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if serve(0) || serve(1) {
		t.Fatal("a rewritten file was served as the one hashed")
	}
}
