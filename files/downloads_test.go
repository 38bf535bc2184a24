package files

import (
	"path/filepath"
	"testing"
)

// A new downloads folder takes the files accepted after the change; one
// accepted before finishes where it started.
func TestSetDownloadsAppliesToNewAccepts(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	src1 := writeRandom(t, t.TempDir(), "one.bin", 2*DefaultChunk, 3)
	src2 := writeRandom(t, t.TempDir(), "two.bin", DefaultChunk, 4)
	ids1, err := a.svc.SendFile(b.id.ID, "", src1)
	if err != nil {
		t.Fatal(err)
	}
	h.until("first offer", 10, func() bool { return hasOffer(b, ids1[0]) })
	if err := b.svc.Accept(ids1[0]); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(t.TempDir(), "Downloads")
	b.svc.SetDownloads(moved)
	if got := b.svc.Downloads(); got != moved {
		t.Fatalf("Downloads() = %q", got)
	}
	ids2, err := a.svc.SendFile(b.id.ID, "", src2)
	if err != nil {
		t.Fatal(err)
	}
	h.until("second offer", 10, func() bool { return hasOffer(b, ids2[0]) })
	if err := b.svc.Accept(ids2[0]); err != nil {
		t.Fatal(err)
	}
	h.until("both done", 80, func() bool {
		_, one := b.done(ids1[0])
		_, two := b.done(ids2[0])
		return one && two
	})
	d1, _ := b.done(ids1[0])
	d2, _ := b.done(ids2[0])
	if d1.Path != filepath.Join(b.dl, "one.bin") || d2.Path != filepath.Join(moved, "two.bin") {
		t.Fatalf("landed at %s and %s", d1.Path, d2.Path)
	}
	sameFile(t, src1, d1.Path)
	sameFile(t, src2, d2.Path)
}
