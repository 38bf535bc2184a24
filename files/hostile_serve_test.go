//go:build parleyhostile

package files

import "testing"

// TestHostileBuildCorruptsServedChunks: with the tag and a rate set, a source
// corrupts every Nth chunk it serves, and its receiver catches it (a 1:1 offer
// with one source fails).
func TestHostileBuildCorruptsServedChunks(t *testing.T) {
	defer func(n uint64) { corruptEvery = n }(corruptEvery)
	corruptEvery = 2
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	src := writeRandom(t, t.TempDir(), "evil.bin", 8*DefaultChunk, 40)
	ids := h.offer(a, b, src)
	b.svc.Accept(ids[0])
	h.until("failed", 40, func() bool {
		_, ok := findEvent(b, func(e Failed) bool { return e.ID == ids[0] && e.Reason == ReasonSenderCorrupt })
		return ok
	})
	if a.stats.Get("files_hostile_corrupted") == 0 || b.stats.Get("files_chunk_bad") == 0 {
		t.Fatalf("corrupted %d, caught %d", a.stats.Get("files_hostile_corrupted"), b.stats.Get("files_chunk_bad"))
	}
}
