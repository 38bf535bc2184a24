package itest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"parley/internal/netlab"
	"parley/internal/team"
	parleynode "parley/node"
)

func teamFile(t *testing.T, passphrase string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "team")
	inv, err := team.NewInvitation(passphrase) // a new team: its own salt
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(inv.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// neverUp fails if n reported any of others up.
func neverUp(t *testing.T, n *node, others ...*node) {
	t.Helper()
	for _, e := range n.Events() {
		for _, o := range others {
			if e.Name() == "peer_up" && e.PeerID() == o.id {
				t.Fatalf("%s saw %s come up", n.name, o.name)
			}
		}
	}
}

// TestClosedTeam: a and b share a team passphrase; c has none and d another
// team's. a and b form an overlay and chat; c and d can see that a team exists
// but neither discover its members, nor link to them by address.
func TestClosedTeam(t *testing.T) {
	c := newCluster(t)
	crew := teamFile(t, "engine 7 night shift")
	other := teamFile(t, "engine 9 day shift")
	a := c.start(c.host("a"), "a", "--team-file", crew)
	b := c.start(c.host("b"), "b", "--team-file", crew)
	cc := c.start(c.host("c"), "c")
	d := c.start(c.host("d"), "d", "--team-file", other)
	a.waitPeerUp(15*time.Second, b)
	b.waitPeerUp(15*time.Second, a)
	id := must(a.Send(b.id, "inside the team")).on(a)
	if _, err := b.WaitEventAny(10*time.Second, func(e netlab.Event) bool { return e.Name() == "message" && e.Str("id") == id }); err != nil {
		t.Fatalf("b: %v", err)
	}
	// Several beacon rounds pass; then nobody outside the team knows a member.
	eventually(t, 15*time.Second, "outsiders to see the team's beacons", func() bool {
		return cc.counters()["beacon_foreign_team"] >= 2 && d.counters()["beacon_drop_team"] >= 2 && a.counters()["beacon_drop_team"] >= 1
	})
	neverUp(t, cc, a, b)
	neverUp(t, d, a, b)
	neverUp(t, a, cc, d)
	// Knowing an address is not enough either.
	addr := a.host.IP(c.seg) + ":48556"
	for _, n := range []*node{cc, d} {
		// The outsider c, which checks no proof, may think for a moment that
		// it linked; d checks a's proof and fails at once. a must hold neither.
		id, err := n.AddPeer(addr)
		t.Logf("%s add_peer %s: %q %v", n.name, addr, id, err)
	}
	eventually(t, 5*time.Second, "a to refuse both", func() bool { return a.counters()["link_refused_team"] >= 2 })
	for _, n := range []*node{cc, d} {
		if l := a.links(); l[n.id] != nil {
			t.Fatalf("a holds a link to outsider %s", n.name)
		}
	}
	neverUp(t, a, cc, d)
	if ready, _ := a.WaitEventAny(time.Second, func(e netlab.Event) bool { return e.Name() == "ready" }); ready.Str("team") == "" {
		t.Fatal("a's ready event has no team hint")
	}
}

// TestTrustDecisions: a verifies b; b reinstalls (new key, same name) and a is
// warned; a blocks the newcomer, which then cannot link; unblocking lets it back.
func TestTrustDecisions(t *testing.T) {
	c := newCluster(t)
	ha, hb := c.host("a"), c.host("b")
	a := c.start(ha, "a")
	b := c.start(hb, "bob")
	a.waitPeerUp(15*time.Second, b)
	if v := must(a.Verify(b.id, true)).on(a); !v.Verified {
		t.Fatalf("verify reply: %+v", v)
	}

	// "bob" comes back with a new identity (a fresh data dir).
	b.quit()
	b.Wait()
	b2 := c.start(hb, "bob2", "--name", "bob")
	e, err := a.WaitEventAny(20*time.Second, func(e netlab.Event) bool { return e.Name() == "key_changed" })
	if err != nil {
		t.Fatalf("a was not warned: %v", err)
	}
	prev, _ := e["previous"].([]any)
	if e.Str("peer") != b2.id || e.Str("name") != "bob" || len(prev) != 1 || prev[0] != b.id || e["previous_verified"] != true {
		t.Fatalf("key_changed: %v", e)
	}
	verified := func(p *parleynode.PeerView) bool { return p != nil && p.Verified }
	if r := a.roster(); !verified(r[b.id]) || verified(r[b2.id]) {
		t.Fatalf("verified flags: old %v, new %v", verified(r[b.id]), verified(r[b2.id]))
	}

	// Block the newcomer: the link goes and stays gone.
	a.waitPeerUp(15*time.Second, b2)
	must(a.Block(b2.id, true)).on(a)
	eventually(t, 10*time.Second, "the link to the blocked peer to close", func() bool { return a.links()[b2.id] == nil })
	time.Sleep(6 * time.Second) // beacons and reconnect attempts come and go
	if a.links()[b2.id] != nil {
		t.Fatal("a blocked peer linked again")
	}
	if ctr := a.counters(); ctr["link_refused_blocked"] == 0 {
		t.Fatalf("no refusal counted: %v", ctr)
	}
	if r := a.roster(); r[b2.id] == nil || !r[b2.id].Blocked {
		t.Fatalf("roster does not show the block: %v", r[b2.id])
	}
	// Unblock: it comes back.
	must(a.Block(b2.id, false)).on(a)
	eventually(t, 20*time.Second, "the unblocked peer to link again", func() bool { return a.links()[b2.id] != nil })
}
