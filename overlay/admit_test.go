package overlay

import (
	"context"
	"net/netip"
	"sync"
	"testing"

	"parley/identity"
	"parley/internal/team"
)

var (
	teamKeysOnce sync.Once
	teamA, teamB *team.Key
)

// teamKeys derives two team keys once (Argon2id is slow on purpose).
func teamKeys(t *testing.T) (*team.Key, *team.Key) {
	t.Helper()
	teamKeysOnce.Do(func() {
		// Two teams with one passphrase: only the salt tells them apart.
		for _, k := range []**team.Key{&teamA, &teamB} {
			inv, err := team.NewInvitation("fire crew 7, east station")
			if err == nil {
				*k, err = team.Derive(inv)
			}
			if err != nil {
				panic(err)
			}
		}
	})
	return teamA, teamB
}

func dialErr(from, to *testNode) error {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	return from.ov.Dial(ctx, to.id.ID, []netip.AddrPort{to.addr()})
}

func TestTeamMembersLinkOthersCannot(t *testing.T) {
	a, b := teamKeys(t)
	withTeam := func(k *team.Key) func(*Config) { return func(c *Config) { c.Team = k } }
	alice := startNodeCfg(t, 1, "alice", withTeam(a), nil)
	bob := startNodeCfg(t, 2, "bob", withTeam(a), nil)
	outsider := startNode(t, 3, "outsider")
	rival := startNodeCfg(t, 4, "rival", withTeam(b), nil)

	dial(t, alice, bob)
	alice.waitEvent("bob online", is(PeerOnline, bob.id.ID))
	bob.waitEvent("alice online", is(PeerOnline, alice.id.ID))
	if alice.ov.Stats()["record_drop_team"] != 0 {
		t.Fatal("a member's record was dropped")
	}

	for _, other := range []*testNode{outsider, rival} {
		// The outsider, which checks no proof, may believe for a moment that
		// its dial worked; the rival checks alice's proof and knows at once.
		if err := dialErr(other, alice); err == nil && other == rival {
			t.Fatalf("%s linked to the team by dialing", other.name)
		}
		if err := dialErr(alice, other); err == nil {
			t.Fatalf("alice linked to %s", other.name)
		}
	}
	waitUntil(t, "refusals counted", func() bool { return alice.ov.Stats()["link_refused_team"] >= 4 })
	for _, other := range []*testNode{outsider, rival} {
		waitUntil(t, other.name+"'s link gone", func() bool { return !other.ov.Linked(alice.id.ID) })
		if other.ov.Linked(alice.id.ID) || alice.ov.Linked(other.id.ID) || other.ov.RecordOf(bob.id.ID) != nil {
			t.Fatalf("%s got into the team", other.name)
		}
	}
}

func TestTeamRecordTag(t *testing.T) {
	a, b := teamKeys(t)
	id := testIdentity(t, 9)
	rec := &Record{Seq: 42, Name: "x", Extensions: []Extension{{Type: RecordExtTeam, Value: teamRecordTag(a, id.Public, 42)}}}
	if err := rec.Sign(id); err != nil {
		t.Fatal(err)
	}
	if !teamRecordOK(a, rec) || teamRecordOK(b, rec) {
		t.Fatal("record tag accepted by the wrong key or refused by the right one")
	}
	rec.Seq = 43 // a tag for one seq does not carry over to a newer record
	if teamRecordOK(a, rec) {
		t.Fatal("tag accepted for another seq")
	}
	bare := &Record{Seq: 1}
	if err := bare.Sign(id); err != nil {
		t.Fatal(err)
	}
	if teamRecordOK(a, bare) {
		t.Fatal("a record without the extension passed")
	}
}

func TestBlockedPeerRefused(t *testing.T) {
	var mu sync.Mutex
	blocked := map[identity.PeerID]bool{}
	refuse := func(c *Config) {
		c.Refuse = func(id identity.PeerID) bool { mu.Lock(); defer mu.Unlock(); return blocked[id] }
	}
	alice := startNodeCfg(t, 1, "alice", refuse, nil)
	mallory := startNode(t, 2, "mallory")
	mu.Lock()
	blocked[mallory.id.ID] = true
	mu.Unlock()
	dialErr(mallory, alice) // may seem to succeed on mallory's side; alice closes it
	waitUntil(t, "mallory's link gone", func() bool { return !mallory.ov.Linked(alice.id.ID) })
	if err := dialErr(alice, mallory); err == nil {
		t.Fatal("alice dialed a blocked peer")
	}
	waitUntil(t, "refusals counted", func() bool { return alice.ov.Stats()["link_refused_blocked"] >= 2 })
	if alice.ov.Linked(mallory.id.ID) {
		t.Fatal("a blocked peer holds a link")
	}
}
