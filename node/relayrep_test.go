package node

import (
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
	"parley/internal/randid"
	"parley/linkquality"
)

// TestRelayAskWithoutGrantIsAFailure: a relay asked for credentials that stays
// silent for relayAskTimeout scores one failure in the monitor's reputation; one that
// grants in time scores none, and the grant of another call does not count.
func TestRelayAskWithoutGrantIsAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &Node{qual: linkquality.New(linkquality.Config{})}
		var silent, granting identity.PeerID
		silent[0], granting[0] = 1, 2
		c1, c2 := randid.New(), randid.New()
		n.relayAsked(silent, c1)
		n.relayAsked(granting, c1)
		n.relayGranted(silent, c2) // another call's grant: not this ask's
		time.Sleep(relayAskTimeout / 2)
		n.relayGranted(granting, c1)
		time.Sleep(relayAskTimeout)
		if got := n.qual.FailScore(silent); got < 0.99 || got > 1 { // decayed for 1 s
			t.Fatalf("silent relay's failure score %v, want about 1", got)
		}
		if got := n.qual.FailScore(granting); got != 0 {
			t.Fatalf("granting relay's failure score %v, want 0", got)
		}
	})
}
