package itest

import (
	"fmt"
	"testing"
	"time"

	"parley/internal/netlab"
)

// TestPresenceMessageAndLeave: on four hosts, a presence change reaches everyone, a
// message is delivered and acknowledged, a clean quit is seen at once as a goodbye
// and a kill -9 within five seconds.
func TestPresenceMessageAndLeave(t *testing.T) {
	c := newCluster(t)
	var nodes []*node
	for i := 1; i <= 4; i++ {
		nodes = append(nodes, c.start(c.host(fmt.Sprintf("h%d", i)), fmt.Sprintf("n%d", i)))
	}
	for _, n := range nodes {
		n.waitPeerUp(15*time.Second, nodes...)
	}
	n1, n2, n3, n4 := nodes[0], nodes[1], nodes[2], nodes[3]

	// Presence.
	n1.ok(n1.Presence("away", "at lunch"))
	for _, o := range nodes[1:] {
		e, err := o.WaitEvent(5*time.Second, func(e netlab.Event) bool {
			return e.Name() == "presence" && e.PeerID() == n1.id
		})
		if err != nil {
			t.Fatalf("%s: no presence event for n1: %v", o.name, err)
		}
		if peerField(e, "presence") != "away" || peerField(e, "status") != "at lunch" {
			t.Fatalf("%s: presence event %v", o.name, e)
		}
	}

	// A message and its acknowledgement.
	msgID := must(n1.Send(n2.id, "hello n2 ✓")).on(n1)
	got, err := n2.WaitEvent(5*time.Second, func(e netlab.Event) bool { return e.Name() == "message" && e.Str("id") == msgID })
	if err != nil {
		t.Fatalf("n2 did not receive the message: %v", err)
	}
	if got.Str("from") != n1.id || got.Str("text") != "hello n2 ✓" {
		t.Fatalf("n2 got %v", got)
	}
	if _, err := n1.WaitEvent(5*time.Second, func(e netlab.Event) bool { return e.Name() == "delivered" && e.Str("id") == msgID }); err != nil {
		t.Fatalf("n1 got no delivery acknowledgement: %v", err)
	}

	// Clean leave: a goodbye, seen at once.
	quitAt := time.Now()
	if err := n3.Quit(5 * time.Second); err != nil {
		t.Fatalf("n3 quit: %v", err)
	}
	for _, o := range []*node{n1, n2, n4} {
		e, err := o.WaitEvent(2*time.Second, func(e netlab.Event) bool { return e.Name() == "peer_down" && e.PeerID() == n3.id })
		if err != nil {
			t.Fatalf("%s did not see n3 leave: %v", o.name, err)
		}
		if e.Str("reason") != "goodbye" {
			t.Fatalf("%s: n3 left with reason %q, want goodbye", o.name, e.Str("reason"))
		}
	}
	t.Logf("goodbye seen by all within %v of quit", time.Since(quitAt).Round(time.Millisecond))

	// Crash: kill -9 sends no goodbye; it must still be seen within 5 s.
	killAt := time.Now()
	if err := n4.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, o := range []*node{n1, n2} {
		e, err := o.WaitEvent(5*time.Second, func(e netlab.Event) bool { return e.Name() == "peer_down" && e.PeerID() == n4.id })
		if err != nil {
			t.Fatalf("%s did not notice n4's crash within 5 s: %v", o.name, err)
		}
		if e.Str("reason") != "lost" {
			t.Fatalf("%s: n4 crash reported with reason %q, want lost", o.name, e.Str("reason"))
		}
	}
	t.Logf("crash seen by all within %v of kill -9", time.Since(killAt).Round(time.Millisecond))
	if r := n1.roster()[n4.id]; r == nil || r.Online {
		t.Fatalf("n1 roster still has n4 online: %v", r)
	}
}
