package itest

import (
	"strings"
	"testing"
	"time"

	"parley/discovery"
	"parley/identity"
	"parley/internal/netlab"
)

// TestForgedBeaconsRejected: a host with no Parley on it sends beacons claiming an
// honest peer's key but signed by another, plus garbage and oversized datagrams.
// Every observer drops and counts them, and the honest peer stays online.
func TestForgedBeaconsRejected(t *testing.T) {
	c := newCluster(t)
	n1 := c.start(c.host("h1"), "n1")
	n2 := c.start(c.host("h2"), "n2")
	attacker := c.host("evil")
	n1.waitPeerUp(10*time.Second, n2)
	n2.waitPeerUp(10*time.Second, n1)

	victimKey := must(n2.Self()).on(n2).PubKey
	if len(victimKey) != 32 {
		t.Fatalf("victim key %x: %d bytes, want 32", victimKey, len(victimKey))
	}
	evil, _ := identity.Generate()
	forge := func(kind discovery.BeaconKind) []byte {
		pkt := discovery.EncodeBeacon(evil, kind, uint64(time.Now().UnixMicro())+1e9, 48556, "n2")
		copy(pkt[6:38], victimKey) // claim n2's identity; the signature is the attacker's
		return pkt
	}
	before := n1.counters()
	group := discovery.BeaconGroup4.String() + ":48555"
	for _, pkt := range [][]byte{
		forge(discovery.KindAnnounce),
		forge(discovery.KindGoodbye), // a forged goodbye must not make n2 look gone
		[]byte(strings.Repeat("not a beacon, just text long enough to get past the size check. ", 3)),
		make([]byte, 900), // oversized
	} {
		if err := attacker.SendUDP(group, pkt); err != nil {
			t.Fatal(err)
		}
	}
	// The forged announce names a peer n1 is linked to, so it is dropped before
	// its signature is read (beacon_skipped_linked); the goodbye is always checked.
	eventually(t, 5*time.Second, "n1 to count the forged and malformed beacons", func() bool {
		ctr := n1.counters()
		forged := ctr["beacon_drop_forged"] - before["beacon_drop_forged"]
		skipped := ctr["beacon_skipped_linked"] - before["beacon_skipped_linked"]
		return forged >= 1 && forged+skipped >= 2 &&
			ctr["beacon_drop_magic"] >= before["beacon_drop_magic"]+1 &&
			ctr["beacon_drop_size"] >= before["beacon_drop_size"]+1
	})
	roster := n1.roster()
	if len(roster) != 1 || roster[n2.id] == nil || !roster[n2.id].Online {
		t.Fatalf("n1 roster after forged beacons: %v", roster)
	}
	// The honest peers still talk.
	id := must(n1.Send(n2.id, "still here?")).on(n1)
	if _, err := n1.WaitEvent(5*time.Second, func(e netlab.Event) bool {
		return e.Name() == "delivered" && e.Str("id") == id
	}); err != nil {
		t.Fatalf("no delivery after the attack: %v", err)
	}
}
