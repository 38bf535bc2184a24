package itest

import (
	"testing"
	"time"

	"parley/internal/netlab"
)

// TestCustodianDeliversWhileSenderIsGone: S writes to R while R is away; S hands the
// sealed message to K, a neighbour both know, and leaves. R comes back while S is
// still gone and gets the message from K. When S returns, its own retransmission is
// recognised as a duplicate: R shows the message once and S learns it was delivered.
func TestCustodianDeliversWhileSenderIsGone(t *testing.T) {
	c := newCluster(t)
	hs, hk, hr := c.host("s"), c.host("k"), c.host("r")
	s := c.start(hs, "s")
	k := c.start(hk, "k")
	r := c.start(hr, "r")
	for _, n := range []*node{s, k, r} {
		n.waitPeerUp(10*time.Second, s, k, r)
	}
	if err := r.Quit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitEvent(5*time.Second, func(e netlab.Event) bool { return e.Name() == "peer_down" && e.PeerID() == r.id }); err != nil {
		t.Fatal(err)
	}
	const text = "held for you by a neighbour"
	id := must(s.Send(r.id, text)).on(s)
	if _, err := s.WaitEvent(5*time.Second, func(e netlab.Event) bool { return e.Name() == "queued" && e.Str("id") == id }); err != nil {
		t.Fatalf("no queued event: %v", err)
	}
	eventually(t, 5*time.Second, "k to hold the message", func() bool { return k.counters()["custody_held"] >= 1 })
	if err := s.Quit(5 * time.Second); err != nil {
		t.Fatal(err)
	}

	r = c.start(hr, "r")
	got, err := r.WaitEvent(15*time.Second, func(e netlab.Event) bool { return e.Name() == "message" && e.Str("id") == id })
	if err != nil {
		t.Fatalf("r did not get the held message while s was away: %v", err)
	}
	if got.Str("from") != s.id || got.Str("text") != text {
		t.Fatalf("r got %v", got)
	}
	eventually(t, 5*time.Second, "k to drop the handed-over message", func() bool { return k.counters()["custody_released"] >= 1 })

	s = c.start(hs, "s")
	if _, err := s.WaitEvent(15*time.Second, func(e netlab.Event) bool { return e.Name() == "delivered" && e.Str("id") == id }); err != nil {
		t.Fatalf("s never learned its message was delivered: %v", err)
	}
	if n := countEvents(r, "message"); n != 1 {
		t.Fatalf("r showed %d messages, want exactly 1", n)
	}
	hist := r.history("peer", s.id)
	if len(hist) != 1 || hist[0].ID != id {
		t.Fatalf("r history: %v", hist)
	}
}
