package overlay

import (
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
)

// A diamond: the author a links to b and c, and both link to d, which a does
// not list. a's record reaches d in full from b and from c; d prunes the later
// one, so every update reaches it in full once and by reference from the
// pruned side. Without pruning d took a full copy from both every time.
func TestDiamondPrunesTheSecondCopy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		a := startMemNode(t, n, 71, "a", nil)
		b := startMemNode(t, n, 72, "b", nil)
		c := startMemNode(t, n, 73, "c", nil)
		d := startMemNode(t, n, 74, "d", nil)
		linkBoth(t, a, b)
		linkBoth(t, a, c)
		linkBoth(t, b, d)
		linkBoth(t, c, d)
		nodes := []*testNode{a, b, c, d}
		waitUntil(t, "every node to know every other prunes", func() bool {
			for _, x := range nodes {
				for _, y := range nodes {
					if x != y && !x.ov.prunable(y.id.ID) {
						return false
					}
				}
			}
			return true
		})
		time.Sleep(wantGrace + 3*lazyTick)
		update := func(status string) (dups, prunes uint64) {
			t.Helper()
			before := d.ov.Stats()
			if err := a.ov.SetProfile(Profile{Name: "a", Status: status}); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "d to hold "+status, func() bool {
				r := d.ov.RecordOf(a.id.ID)
				return r != nil && r.Status == status
			})
			time.Sleep(wantGrace + 3*lazyTick) // the second copy or its reference, and the prune
			after := d.ov.Stats()
			return after["record_duplicate"] - before["record_duplicate"], after["record_prune_sent"] - before["record_prune_sent"]
		}
		// Joining, d took a's record from both b's and c's sync of their
		// records and pruned the second: exactly one of them now sends a's
		// records to d by reference.
		prunedAt := func(x *testNode) bool {
			x.ov.mu.Lock()
			l := x.ov.links[d.id.ID]
			x.ov.mu.Unlock()
			return l != nil && l.lazy.isPruned(a.id.ID)
		}
		if prunedAt(b) == prunedAt(c) {
			t.Fatalf("a pruned toward d at b: %v, at c: %v; want exactly one", prunedAt(b), prunedAt(c))
		}
		for _, status := range []string{"one", "two"} {
			if dups, _ := update(status); dups != 0 {
				t.Fatalf("update %q: d took %d second full copies; want none", status, dups)
			}
		}
	})
}

// A want undoes a prune on its link, so a node the tree missed is reached
// through the link it pulled from next time; the set of pruned authors is
// bounded.
func TestWantGraftsAndPrunedSetIsBounded(t *testing.T) {
	var z lazyLink
	var author identity.PeerID
	author[0] = 1
	if !z.prune(author) || !z.isPruned(author) {
		t.Fatal("prune did not take")
	}
	z.graft(author)
	if z.isPruned(author) {
		t.Fatal("graft did not undo the prune")
	}
	for i := range maxPruned {
		var id identity.PeerID
		id[0], id[1], id[2] = 2, byte(i>>8), byte(i)
		if !z.prune(id) {
			t.Fatalf("prune %d refused below the bound", i)
		}
	}
	if z.prune(author) {
		t.Fatalf("prune accepted beyond %d authors", maxPruned)
	}
}
