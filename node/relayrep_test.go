package node

import (
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
	"parley/internal/randid"
	"parley/linkquality"
	"parley/media/call"
	"parley/overlay"
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

// TestRelayLostCountsAgainstIt: a call whose stats named relay r, then moved off a
// lost relay, scores r one failure; a call that ended normally scores none.
func TestRelayLostCountsAgainstIt(t *testing.T) {
	n := &Node{qual: linkquality.New(linkquality.Config{})}
	var peer, r, q identity.PeerID
	peer[0], r[0], q[0] = 1, 2, 3
	moved, ended := randid.New(), randid.New()
	n.noteCallRelay(call.Stats{Call: moved, Peer: peer, Relay: r})
	n.noteCallRelay(call.Stats{Call: ended, Peer: peer, Relay: q})
	n.noteCallRelay(call.StateChanged{Call: ended, Peer: peer, State: call.StateEnded, Reason: call.ReasonHangup})
	n.noteCallRelay(call.StateChanged{Call: moved, Peer: peer, State: call.StateActive, Reason: call.ReasonRelayMoved})
	if got := n.qual.FailScore(r); got < 0.99 {
		t.Fatalf("lost relay's failure score %v, want about 1", got)
	}
	if got := n.qual.FailScore(q); got != 0 {
		t.Fatalf("relay of a call that ended normally: score %v, want 0", got)
	}
	if len(n.relayAsks.carrying) != 0 {
		t.Fatalf("legs still tracked after their calls moved or ended: %v", n.relayAsks.carrying)
	}
}

// TestCustodianAvoidsFailingPeers: the nearest linked peer holds messages unless it
// failed recently: 1.5 failures × 5 ms outweigh its 2 ms lead.
func TestCustodianAvoidsFailingPeers(t *testing.T) {
	var absent, near, far identity.PeerID
	absent[0], near[0], far[0] = 1, 2, 3
	links := []overlay.LinkInfo{
		{Peer: absent, Quality: overlay.Quality{SRTT: time.Millisecond}},
		{Peer: near, Quality: overlay.Quality{SRTT: time.Millisecond}},
		{Peer: far, Quality: overlay.Quality{SRTT: 3 * time.Millisecond}},
	}
	online := func(identity.PeerID) bool { return true }
	scores := map[identity.PeerID]float64{}
	score := func(p identity.PeerID) float64 { return scores[p] }
	if got, ok := pickCustodian(links, absent, online, score); !ok || got != near {
		t.Fatalf("no failures: custodian %v, want the nearest", got)
	}
	scores[near] = 1.5
	if got, ok := pickCustodian(links, absent, online, score); !ok || got != far {
		t.Fatalf("nearest failed 1.5 times: custodian %v, want the other", got)
	}
}
