package discovery

import (
	"net/netip"
	"testing"

	"parley/internal/team"
)

func TestClosedTeamBeaconsAndTXT(t *testing.T) {
	key, other := testTeamKey(t, "night shift, crew 11"), testTeamKey(t, "day shift, crew 12")
	clk := newFakeClock()
	me, member, outsider, rival := testIdentity(t, 1), testIdentity(t, 2), testIdentity(t, 3), testIdentity(t, 4)
	src := netip.MustParseAddr("192.0.2.10")

	closed := New(Config{Identity: me, LinkPort: 48556, Now: clk.Now, Log: quietLog, Team: key})
	closed.HandleBeacon(EncodeTeamBeacon(member, KindAnnounce, 10, 4000, "member", key), src)
	closed.HandleBeacon(EncodeBeacon(outsider, KindAnnounce, 10, 4000, "outsider"), src)
	closed.HandleBeacon(EncodeTeamBeacon(rival, KindAnnounce, 10, 4000, "rival", other), src)
	// A member's tag does not survive a changed port (someone re-signing it
	// would need the member's identity key too, but the tag alone must bind).
	forged := EncodeTeamBeacon(member, KindAnnounce, 11, 4000, "member", key)
	b, err := DecodeBeacon(forged)
	if err != nil || !b.teamOK(key) {
		t.Fatalf("member beacon: %v", err)
	}
	b.Port = 4001
	if b.teamOK(key) {
		t.Fatal("a team tag passed for another port")
	}
	if _, ok := closed.Table().Get(member.ID); !ok {
		t.Fatal("a team member's beacon was refused")
	}
	for _, id := range []string{outsider.ID.String(), rival.ID.String()} {
		for _, n := range closed.Table().List() {
			if n.ID.String() == id {
				t.Fatalf("%s got into a closed team's table", id)
			}
		}
	}
	if got := closed.Stats()["beacon_drop_team"]; got != 2 {
		t.Fatalf("beacon_drop_team = %d, want 2", got)
	}

	// An open node sees that the team exists and leaves it alone.
	open := New(Config{Identity: outsider, LinkPort: 48556, Now: clk.Now, Log: quietLog})
	open.HandleBeacon(EncodeTeamBeacon(member, KindAnnounce, 12, 4000, "member", key), src)
	if _, ok := open.Table().Get(member.ID); ok || open.Stats()["beacon_foreign_team"] != 1 {
		t.Fatalf("open node took a team beacon: stats %v", open.Stats())
	}

	// DNS-SD: the TXT tag round-trips and binds ID and port.
	tag := mdnsTeamTag(key, member.ID, 4000)
	info, err := ParseTXT(EncodeTXT(ServiceInfo{ID: member.ID, Port: 4000, Team: tag}))
	if err != nil || info.Team != tag {
		t.Fatalf("TXT round trip: %+v, %v", info, err)
	}
	if mdnsTeamTag(key, member.ID, 4001) == tag || mdnsTeamTag(other, member.ID, 4000) == tag {
		t.Fatal("TXT team tag does not bind port and key")
	}
}

// testTeamKey derives the key of a new team (its own salt) with passphrase.
func testTeamKey(t *testing.T, passphrase string) *team.Key {
	t.Helper()
	inv, err := team.NewInvitation(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	k, err := team.Derive(inv)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
