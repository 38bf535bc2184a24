package node

import (
	"strings"
	"testing"
	"time"

	"parley/store"
)

// TestSearchViews: Search reaches the store and gives the skins' view of what it
// found (conversation names, view states), [] rather than null for nothing,
// and the store's refusal of a long query as an error.
func TestSearchViews(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	defer n.Stop()
	peer := n.Self().ID
	err := n.db.Update(func(tx *store.Tx) error {
		for _, m := range []store.Message{
			{ID: "a", Conv: store.DirectConv(peer), From: peer, To: peer, Text: "Déjà vu", HLC: 1 << 16, Time: time.Now(), State: store.StateSent},
			{ID: "b", Conv: store.RoomConv("ops"), From: peer, Room: "ops", Text: "deja", HLC: 2 << 16, Time: time.Now(), State: store.StateReceived},
		} {
			if _, err := tx.PutMessage(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.Search("DEJA", 0)
	if err != nil || len(got) != 2 {
		t.Fatalf("Search = %+v, %v", got, err)
	}
	if got[0].ID != "b" || got[0].Conv != RoomConv("ops") || got[1].Conv != DirectConv(peer) || got[1].Text != "Déjà vu" {
		t.Errorf("results %+v", got)
	}
	if got[0].State != "received" || got[1].State != "sent" {
		t.Errorf("states %q, %q", got[0].State, got[1].State)
	}
	if none, err := n.Search("nothing", 0); err != nil || none == nil || len(none) != 0 {
		t.Errorf("no match = %#v, %v; want [] ", none, err)
	}
	if _, err := n.Search(strings.Repeat("x", SearchMaxQuery+1), 0); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("long query: %v", err)
	}
}
