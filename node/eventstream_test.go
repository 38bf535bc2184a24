package node

import (
	"fmt"
	"testing"
)

func peerUp(i int) Event { return PeerUp{Peer: PeerView{ID: fmt.Sprint("p", i), Online: true}} }

// A burst of roster events (thousands of wired throwaway identities coming
// online) fills at most half a stream: a message after it still gets in, and
// every withheld peer's state follows once the skin reads on.
func TestRosterFloodLeavesRoomForMessages(t *testing.T) {
	var n Node
	ch := n.Subscribe()
	const flood = 3000
	for i := range flood {
		n.emit(peerUp(i))
	}
	n.emit(MessageReceived{})
	if got := len(ch); got != eventBuffer/2+1 {
		t.Fatalf("stream holds %d events, want %d roster events and the message", got, eventBuffer/2+1)
	}
	if c := n.stats.Snapshot(); c["node_events_withheld"] != flood-eventBuffer/2 || c["node_events_dropped"] != 0 {
		t.Fatalf("counters %v", c)
	}
	seen := map[string]bool{}
	gotMessage := false
	for round := 0; len(seen) < flood; round++ {
		if round > 20 {
			t.Fatalf("after %d rounds %d of %d peers seen", round, len(seen), flood)
		}
		for len(ch) > 0 {
			switch e := (<-ch).(type) {
			case PeerUp:
				seen[e.Peer.ID] = true
			case MessageReceived:
				gotMessage = true
			}
		}
		n.resyncStreams(func(id string) Event { return PeerUp{Peer: PeerView{ID: id, Online: true}} })
	}
	if !gotMessage {
		t.Fatal("the message was lost")
	}
}

// While a peer is withheld its later events are withheld too, and a resync that
// read the state before a newer event does not clear it: the skin ends on the
// newest state, never an older one after a newer one.
func TestWithheldPeerEndsOnItsNewestState(t *testing.T) {
	var n Node
	ch := n.Subscribe()
	for i := range eventBuffer / 2 {
		n.emit(peerUp(1000 + i)) // fill the roster half
	}
	n.emit(peerUp(1))
	for len(ch) > 0 {
		<-ch // the skin reads on: room again
	}
	n.emit(PeerDown{Peer: PeerView{ID: "p1"}, Reason: "lost"}) // withheld: p1 is stale
	if len(ch) != 0 {
		t.Fatal("a stale peer's newer event overtook its withheld state")
	}
	// A resync whose read raced with a newer change: the state it read is old.
	n.resyncStreams(func(id string) Event {
		if id == "p1" {
			n.emit(PresenceChanged{Peer: PeerView{ID: "p1", Presence: "busy"}}) // meanwhile
		}
		return PeerUp{Peer: PeerView{ID: id, Online: true}}
	})
	for len(ch) > 0 {
		if id, _ := rosterPeer(<-ch); id == "p1" {
			t.Fatal("a resync sent state read before a newer event of the peer")
		}
	}
	n.resyncStreams(func(id string) Event { return PeerDown{Peer: PeerView{ID: id}, Reason: "goodbye"} })
	var last Event
	for len(ch) > 0 {
		if e := <-ch; e != nil {
			if id, _ := rosterPeer(e); id == "p1" {
				last = e
			}
		}
	}
	if d, ok := last.(PeerDown); !ok || d.Reason != "goodbye" {
		t.Fatalf("p1 ended on %#v, want the newest state (down, goodbye)", last)
	}
}
