package call

import (
	"sync"
	"testing"

	"parley/identity"
	"parley/media/audio"
)

// relayNode is a Manager serving only as a relay, with what it issues,
// revokes, sends and counts recorded.
type relayNode struct {
	m *Manager

	mu      sync.Mutex
	issued  [][3]identity.PeerID // asker, peer (third unused)
	calls   []ID
	revoked map[[2]identity.PeerID]ID
	sent    []*Message
	counts  map[string]int
}

func newRelayNode(t *testing.T, self identity.PeerID) *relayNode {
	t.Helper()
	r := &relayNode{revoked: map[[2]identity.PeerID]ID{}, counts: map[string]int{}}
	m, err := New(Config{
		Self:      self,
		OpenAudio: func() (audio.Source, audio.Sink, error) { return nil, nil, nil },
		Send: func(_ identity.PeerID, msg *Message) error {
			r.mu.Lock()
			r.sent = append(r.sent, msg)
			r.mu.Unlock()
			return nil
		},
		IssueRelay: func(call ID, asker, peer identity.PeerID) (*Relay, error) {
			r.mu.Lock()
			r.issued = append(r.issued, [3]identity.PeerID{asker, peer})
			r.calls = append(r.calls, call)
			r.mu.Unlock()
			return &Relay{URLs: []string{"turn:192.0.2.1:48557?transport=udp"}, Username: "u", Password: "p"}, nil
		},
		RevokeRelay: func(call ID, asker, peer identity.PeerID) {
			r.mu.Lock()
			r.revoked[[2]identity.PeerID{asker, peer}] = call
			r.mu.Unlock()
		},
		Count: func(name string) {
			r.mu.Lock()
			r.counts[name]++
			r.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	r.m = m
	return r
}

func (r *relayNode) grants() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.issued)
}

func pid(b byte) identity.PeerID {
	var p identity.PeerID
	p[0], p[15] = b, b
	return p
}

// A relay grants credentials only for a call leg the asker is a party of:
// not for an invented call ID with no parties (what the node granted before:
// any sealed sender, any call ID), not for someone else's leg, not for a leg
// that names the relay itself. Each asker holds grants in one call at a time,
// and a leg's grant is revoked when one of its parties says it ended.
func TestRelayGrantsOnlyToLegParties(t *testing.T) {
	self, alice, bob, mallory := pid(9), pid(1), pid(2), pid(3)
	r := newRelayNode(t, self)
	ask := func(from identity.PeerID, call ID, parts ...identity.PeerID) {
		r.m.Handle(from, &Message{Kind: KindRelayAsk, Call: call, Participants: parts})
	}
	invented := NewID()
	ask(mallory, invented)                // no parties at all
	ask(mallory, invented, alice, bob)    // someone else's leg
	ask(mallory, invented, mallory)       // a "leg" of one
	ask(mallory, invented, mallory, self) // the relay as a party
	ask(mallory, invented, mallory, mallory)
	if n := r.grants(); n != 0 {
		t.Fatalf("%d grants to a peer in no call leg, want 0", n)
	}
	if got := r.counts["call_relay_refused_not_participant"]; got != 5 {
		t.Fatalf("call_relay_refused_not_participant = %d, want 5", got)
	}

	x, y := NewID(), NewID()
	ask(alice, x, alice, bob)
	if n := r.grants(); n != 1 || r.issued[0] != [3]identity.PeerID{alice, bob} || r.calls[0] != x {
		t.Fatalf("alice's leg: issued %v", r.issued)
	}
	// A new call: alice's grant in x ends.
	ask(alice, y, alice, bob)
	if got := r.revoked[[2]identity.PeerID{alice, bob}]; got != x {
		t.Fatalf("alice's old call not revoked: %v", r.revoked)
	}
	delete(r.revoked, [2]identity.PeerID{alice, bob})
	// Mallory cannot end alice's leg; bob, its other party, can.
	r.m.Handle(mallory, &Message{Kind: KindHangup, Call: y, Participants: []identity.PeerID{alice, bob}})
	if len(r.revoked) != 0 {
		t.Fatalf("a stranger's hangup revoked %v", r.revoked)
	}
	r.m.Handle(bob, &Message{Kind: KindHangup, Call: y, Participants: []identity.PeerID{alice, bob}})
	if got, ok := r.revoked[[2]identity.PeerID{alice, bob}]; !ok || got != y {
		t.Fatalf("the leg's end did not revoke it: %v", r.revoked)
	}
	if r.counts["call_relay_granted"] != 2 || r.counts["call_relay_released"] != 1 {
		t.Fatalf("counters %v", r.counts)
	}
}
