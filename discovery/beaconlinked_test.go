package discovery

import (
	"net/netip"
	"testing"

	"parley/identity"
)

// A linked peer's announces are dropped before their signature is checked and
// change nothing; its goodbye is still read, and an unlinked peer's announce is
// taken as before.
func TestLinkedPeersAnnouncesAreSkipped(t *testing.T) {
	clk := newFakeClock()
	me, alice, bob := testIdentity(t, 1), testIdentity(t, 2), testIdentity(t, 3)
	linked := map[identity.PeerID]bool{alice.ID: true}
	s := New(Config{Identity: me, LinkPort: 48556, Now: clk.Now, Log: quietLog, Linked: func(id identity.PeerID) bool { return linked[id] }})
	src := netip.MustParseAddr("192.0.2.10")

	s.HandleBeacon(EncodeBeacon(alice, KindAnnounce, 100, 4000, "alice"), src)
	if _, ok := s.Table().Get(alice.ID); ok {
		t.Fatal("a linked peer's announce entered the table")
	}
	if got := s.Stats()["beacon_skipped_linked"]; got != 1 {
		t.Fatalf("beacon_skipped_linked = %d, want 1", got)
	}
	// A forgery in the linked peer's name is skipped the same way: unchecked
	// bytes never reach the table.
	s.HandleBeacon(goodRaw(alice).build(bob), src)
	if _, ok := s.Table().Get(alice.ID); ok {
		t.Fatal("a forged announce entered the table")
	}

	s.HandleBeacon(EncodeBeacon(bob, KindAnnounce, 7, 4001, "bob"), src)
	if _, ok := s.Table().Get(bob.ID); !ok {
		t.Fatal("an unlinked peer's announce was skipped")
	}
	if ev := nextEvent(t, s); ev.Outcome != Added || ev.Neighbour.ID != bob.ID {
		t.Fatalf("event %+v, want Added for bob", ev)
	}

	linked[bob.ID] = true
	s.HandleBeacon(EncodeBeacon(bob, KindGoodbye, 8, 4001, "bob"), src)
	if ev := nextEvent(t, s); ev.Outcome != Departed || ev.Neighbour.ID != bob.ID {
		t.Fatalf("event %+v, want Departed for bob's goodbye", ev)
	}
}
