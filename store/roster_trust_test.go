package store

import (
	"testing"
	"time"
)

func TestTrustSurvivesRosterWrites(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	if err := d.PutPeer(Peer{ID: "p1", Name: "ann", LastSeen: time.Unix(100, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetTrust("p1", &yes, nil); err != nil {
		t.Fatal(err)
	}
	// Blocking a peer never seen creates its entry.
	if _, err := d.SetTrust("p2", nil, &yes); err != nil {
		t.Fatal(err)
	}
	// Ordinary roster updates (presence, addresses) keep the trust flags.
	if err := d.PutPeer(Peer{ID: "p1", Name: "ann", Addrs: []string{"10.0.0.1:1"}, LastSeen: time.Unix(200, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := d.PutPeer(Peer{ID: "p2", Name: "mallory"}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if d, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p1, _, _ := d.GetPeer("p1")
	p2, _, _ := d.GetPeer("p2")
	if !p1.Verified || p1.Blocked || p2.Verified || !p2.Blocked || p2.Name != "mallory" {
		t.Fatalf("after reopen: p1 %+v, p2 %+v", p1, p2)
	}
	if p, err := d.SetTrust("p2", nil, &no); err != nil || p.Blocked {
		t.Fatalf("unblock: %+v, %v", p, err)
	}
}
