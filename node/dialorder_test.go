package node

import (
	"slices"
	"testing"

	"parley/identity"
	"parley/store"
	"parley/vivaldi"
)

func TestDialOrderNearestFirstThenSpread(t *testing.T) {
	id := func(i int) identity.PeerID {
		var p identity.PeerID
		p[0], p[1] = byte(i), byte(i>>8)
		return p
	}
	// 60 peers in ID order; peer i sits i ms away on a line. Every fifth has no
	// coordinate.
	var peers []store.Peer
	coords := map[identity.PeerID]vivaldi.Coord{}
	for i := 1; i <= 60; i++ {
		peers = append(peers, store.Peer{ID: id(i).String()})
		if i%5 != 0 {
			coords[id(i)] = vivaldi.Coord{X: float64(i), Height: 0.01, Error: 0.2}
		}
	}
	coordOf := func(p identity.PeerID) (vivaldi.Coord, bool) { c, ok := coords[p]; return c, ok }
	origin := vivaldi.Coord{Height: 0.01, Error: 0.2}

	order := func(self identity.PeerID) []string {
		var out []string
		for _, p := range dialOrder(self, origin, peers, coordOf) {
			out = append(out, p.ID)
		}
		return out
	}
	a, b := order(id(1000)), order(id(2000))
	if len(a) != 60 {
		t.Fatalf("%d peers out of 60", len(a))
	}
	// The first dialNear are the nearest with coordinates: 1, 2, 3, 4, 6, ...
	var want []string
	for i := 1; len(want) < dialNear; i++ {
		if i%5 != 0 {
			want = append(want, id(i).String())
		}
	}
	if !slices.Equal(a[:dialNear], want) || !slices.Equal(b[:dialNear], want) {
		t.Fatalf("near part: %v, want %v", a[:dialNear], want)
	}
	// The rest is in an order of each node's own: two nodes do not dial the
	// same peers after their nearest, and neither follows the roster's ID order.
	restA, restB := a[dialNear:], b[dialNear:]
	if slices.Equal(restA, restB) {
		t.Fatal("two nodes order the far peers alike")
	}
	if slices.IsSorted(restA) {
		t.Fatal("the far peers are in ID order")
	}
	// Of the next 12 each would dial, few are shared.
	shared := 0
	for _, p := range restA[:12] {
		if slices.Contains(restB[:12], p) {
			shared++
		}
	}
	if shared > 8 {
		t.Fatalf("%d of 12 far dials shared between two nodes", shared)
	}
	// Deterministic.
	if !slices.Equal(a, order(id(1000))) {
		t.Fatal("the same node ordered its roster differently twice")
	}
	// Without a fitted own coordinate nothing is near: the whole roster in hash
	// order.
	if all := dialOrder(id(1000), vivaldi.New(), peers, coordOf); all[0].ID == want[0] && all[1].ID == want[1] && all[2].ID == want[2] {
		t.Fatal("an unusable own coordinate still put the nearest first")
	}
}
