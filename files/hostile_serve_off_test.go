//go:build !parleyhostile

package files

import "testing"

// TestOrdinaryBuildIgnoresHostileEnv: without the parleyhostile tag the
// variable that arms a hostile test build changes nothing.
func TestOrdinaryBuildIgnoresHostileEnv(t *testing.T) {
	t.Setenv("PARLEY_HOSTILE_CORRUPT_CHUNKS", "1")
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	src := writeRandom(t, t.TempDir(), "plain.bin", 4*DefaultChunk, 41)
	ids := h.offer(a, b, src)
	b.svc.Accept(ids[0])
	h.until("done", 40, func() bool { _, ok := b.done(ids[0]); return ok })
	dd, _ := b.done(ids[0])
	sameFile(t, src, dd.Path)
	if n := b.stats.Get("files_chunk_bad") + a.stats.Get("files_hostile_corrupted"); n != 0 {
		t.Fatalf("bad chunks in an ordinary build: %d", n)
	}
}
