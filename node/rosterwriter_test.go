package node

import (
	"errors"
	"testing"

	"parley/identity"
	"parley/store"
)

// A burst of peers coming online costs one transaction per rosterBatch entries,
// not one each, and a peer queued twice is written once with both updates merged.
func TestRosterWriterBatchesAndMerges(t *testing.T) {
	var calls [][]store.Peer
	w := newRosterWriter(func(ps []store.Peer) error {
		calls = append(calls, ps)
		return nil
	}, func(error, int) { t.Fatal("no error expected") })
	ids := make([]identity.PeerID, rosterBatch+10)
	for i := range ids {
		ids[i][0], ids[i][1] = byte(i), byte(i>>8)
		w.add(ids[i], store.Peer{ID: ids[i].String(), Name: "first", Addrs: []string{"10.0.0.1:1"}})
	}
	w.add(ids[3], store.Peer{ID: ids[3].String(), Name: "second", Addrs: []string{"10.0.0.2:1"}})
	w.flush()
	if len(calls) != 2 || len(calls[0]) != rosterBatch || len(calls[1]) != 10 {
		t.Fatalf("transactions: %d (sizes %v), want 2 of %d and 10", len(calls), sizes(calls), rosterBatch)
	}
	got := calls[0][3]
	if got.ID != ids[3].String() || got.Name != "second" || len(got.Addrs) != 2 || got.Addrs[0] != "10.0.0.2:1" {
		t.Fatalf("merged entry = %+v, want name second and both addresses, newest first", got)
	}
	w.flush()
	if len(calls) != 2 {
		t.Fatalf("an empty flush wrote %d more transactions", len(calls)-2)
	}
	if len(w.pending) != 0 || w.order != nil {
		t.Fatalf("pending %d, order %v after flush", len(w.pending), w.order)
	}
}

// A failed write is reported, not retried forever.
func TestRosterWriterReportsErrors(t *testing.T) {
	var reported int
	w := newRosterWriter(func([]store.Peer) error { return errors.New("disk full") },
		func(_ error, n int) { reported += n })
	w.add(identity.PeerID{1}, store.Peer{ID: "x"})
	w.flush()
	if reported != 1 {
		t.Fatalf("reported %d failed entries, want 1", reported)
	}
}

func sizes(calls [][]store.Peer) []int {
	out := make([]int, len(calls))
	for i, c := range calls {
		out[i] = len(c)
	}
	return out
}
