package store

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestPutPeerMerge(t *testing.T) {
	d, _ := openTemp(t)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)

	if _, ok, err := d.GetPeer("bob"); ok || err != nil {
		t.Fatalf("unknown peer: ok %v, err %v", ok, err)
	}
	first := Peer{ID: "bob", PubKey: []byte("key"), Name: "Bob", Record: []byte("rec1"),
		Addrs: []string{"192.0.2.1:1", "192.0.2.2:1"}, FirstSeen: t0, LastSeen: t0}
	if err := d.PutPeer(first); err != nil {
		t.Fatal(err)
	}

	// A later sighting with empty fields and a later FirstSeen.
	if err := d.PutPeer(Peer{ID: "bob", Addrs: []string{"192.0.2.3:1", "192.0.2.1:1"}, FirstSeen: t1, LastSeen: t1}); err != nil {
		t.Fatal(err)
	}
	p, _, err := d.GetPeer("bob")
	if err != nil {
		t.Fatal(err)
	}
	if !p.FirstSeen.Equal(t0) {
		t.Errorf("FirstSeen = %v, want the original %v", p.FirstSeen, t0)
	}
	if !p.LastSeen.Equal(t1) {
		t.Errorf("LastSeen = %v, want %v", p.LastSeen, t1)
	}
	if p.Name != "Bob" || string(p.PubKey) != "key" || string(p.Record) != "rec1" {
		t.Errorf("empty fields erased known ones: %+v", p)
	}
	if want := []string{"192.0.2.3:1", "192.0.2.1:1", "192.0.2.2:1"}; !slices.Equal(p.Addrs, want) {
		t.Errorf("addrs = %v, want %v (newest first, no duplicates)", p.Addrs, want)
	}

	// An older LastSeen does not move it back; a zero FirstSeen keeps the stored one;
	// non-empty fields replace.
	if err := d.PutPeer(Peer{ID: "bob", Name: "Robert", Record: []byte("rec2"), LastSeen: t0}); err != nil {
		t.Fatal(err)
	}
	p, _, _ = d.GetPeer("bob")
	if !p.LastSeen.Equal(t1) || !p.FirstSeen.Equal(t0) || p.Name != "Robert" || string(p.Record) != "rec2" {
		t.Errorf("after update: %+v", p)
	}
	// An earlier FirstSeen (a record older than our first sighting) wins.
	early := t0.Add(-time.Hour)
	if err := d.PutPeer(Peer{ID: "bob", FirstSeen: early}); err != nil {
		t.Fatal(err)
	}
	if p, _, _ = d.GetPeer("bob"); !p.FirstSeen.Equal(early) {
		t.Errorf("FirstSeen = %v, want the earlier %v", p.FirstSeen, early)
	}
}

func TestPutPeerAddrsCapped(t *testing.T) {
	d, _ := openTemp(t)
	addrs := func(from, n int) []string {
		var out []string
		for i := from; i < from+n; i++ {
			out = append(out, fmt.Sprintf("192.0.2.%d:1", i))
		}
		return out
	}
	if err := d.PutPeer(Peer{ID: "bob", Addrs: addrs(0, 10)}); err != nil {
		t.Fatal(err)
	}
	if err := d.PutPeer(Peer{ID: "bob", Addrs: addrs(100, 10)}); err != nil {
		t.Fatal(err)
	}
	p, _, _ := d.GetPeer("bob")
	want := append(addrs(100, 10), addrs(0, 6)...)
	if !slices.Equal(p.Addrs, want) {
		t.Fatalf("addrs = %v\nwant %v", p.Addrs, want)
	}
	if len(p.Addrs) != maxCachedAddrs {
		t.Fatalf("%d addrs cached, cap %d", len(p.Addrs), maxCachedAddrs)
	}
}

func TestPeersListsRoster(t *testing.T) {
	d, _ := openTemp(t)
	for _, id := range []string{"a", "b", "c"} {
		if err := d.PutPeer(Peer{ID: id, Name: "name-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := d.Peers()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"name-a", "name-b", "name-c"}) {
		t.Fatalf("roster names %v", names)
	}
}

// TestRosterVersion: every roster write moves the version, so a reader that
// caches the roster (the node's reconnect loop) sees each change.
func TestRosterVersion(t *testing.T) {
	d, _ := openTemp(t)
	v0 := d.RosterVersion()
	if err := d.PutPeer(Peer{ID: "a", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	v1 := d.RosterVersion()
	if v1 == v0 {
		t.Fatal("PutPeer left the roster version")
	}
	if _, err := d.Peers(); err != nil || d.RosterVersion() != v1 {
		t.Fatalf("reading moved the version (err %v)", err)
	}
	yes := true
	if _, err := d.SetTrust("a", nil, &yes); err != nil {
		t.Fatal(err)
	}
	if d.RosterVersion() == v1 {
		t.Fatal("SetTrust left the roster version")
	}
}

// PutPeers writes a batch in one transaction, each entry merged with what is
// stored: a batch cannot clear a block the user set.
func TestPutPeersMergesEachEntry(t *testing.T) {
	d, _ := openTemp(t)
	if err := d.PutPeer(Peer{ID: "a", Name: "A", Addrs: []string{"192.0.2.1:1"}}); err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := d.SetTrust("a", nil, &yes); err != nil {
		t.Fatal(err)
	}
	v0 := d.RosterVersion()
	if err := d.PutPeers([]Peer{{ID: "a", Addrs: []string{"192.0.2.2:1"}}, {ID: "b", Name: "B"}}); err != nil {
		t.Fatal(err)
	}
	if d.RosterVersion() != v0+1 {
		t.Fatalf("roster version moved by %d, want 1 (one transaction)", d.RosterVersion()-v0)
	}
	a, _, _ := d.GetPeer("a")
	b, ok, _ := d.GetPeer("b")
	if a.Name != "A" || len(a.Addrs) != 2 || a.Addrs[0] != "192.0.2.2:1" || !ok || b.Name != "B" {
		t.Fatalf("a = %+v, b = %+v (ok %v)", a, b, ok)
	}
	if !a.Blocked {
		t.Fatalf("the batch cleared a's trust: %+v", a)
	}
}
