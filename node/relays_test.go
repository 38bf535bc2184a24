package node

import (
	"maps"
	"testing"

	"parley/identity"
	"parley/internal/randid"
	"parley/media/call"
)

// TestOwnRelaySessions: this node's call legs to the decision's peers count as its
// own sessions on the relay that carries them (selection.Request.Own); a leg to
// another peer, or one with no relay, does not.
func TestOwnRelaySessions(t *testing.T) {
	n := &Node{}
	var c, d, r, q identity.PeerID
	c[0], d[0], r[0], q[0] = 1, 2, 3, 4
	n.noteCallRelay(call.Stats{Call: randid.New(), Peer: c, Relay: r})
	n.noteCallRelay(call.Stats{Call: randid.New(), Peer: c, Relay: r})
	n.noteCallRelay(call.Stats{Call: randid.New(), Peer: d, Relay: q})
	n.noteCallRelay(call.Stats{Call: randid.New(), Peer: c}) // direct: no relay
	got := n.ownRelaySessions([]string{c.String()})
	if want := map[string]int{r.String(): 2}; !maps.Equal(got, want) {
		t.Fatalf("own sessions %v, want %v", got, want)
	}
	if got := n.ownRelaySessions([]string{identity.PeerID{9}.String()}); len(got) != 0 {
		t.Fatalf("own sessions to a peer with no call: %v", got)
	}
}
