package node

import (
	"bytes"
	"crypto/ed25519"
	"log/slog"
	"testing"

	"parley/identity"
	"parley/internal/seal"
	"parley/media/call"
)

func callTestID(t *testing.T, seed byte) *identity.Identity {
	t.Helper()
	id, err := identity.FromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Call signalling is courier.Live: a sealed sender other than the link peer or
// routed source is dropped (call_drop_sender), and so is whatever a blocked
// peer sends or signs (call_drop_blocked), before the call manager sees it.
func TestCallFramePolicy(t *testing.T) {
	self, author, relay, evil := callTestID(t, 1), callTestID(t, 2), callTestID(t, 3), callTestID(t, 9)
	n := &Node{id: self, log: slog.New(slog.DiscardHandler), trust: &trust{blocked: map[identity.PeerID]bool{evil.ID: true}}}
	var err error
	if n.callSealed, err = n.newCallCourier(); err != nil {
		t.Fatal(err)
	}
	msg, err := (&call.Message{Kind: call.KindHangup, Call: call.ID{1}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	sealFrom := func(from *identity.Identity) []byte {
		env, err := seal.Seal(from, self.Public, msg)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	// n.calls is nil: any frame that got past the policy would panic here.
	n.onCallFrame(relay.ID, sealFrom(author))   // carried or routed under another source
	n.onCallFrame(author.ID, sealFrom(evil))    // blocked signer, honest source named
	n.onCallFrame(evil.ID, sealFrom(author))    // blocked routed source
	n.onCallFrame(author.ID, []byte("garbage")) // not an envelope
	for name, want := range map[string]uint64{"call_drop_sender": 1, "call_drop_blocked": 2, "call_drop_unsealed": 1} {
		if got := n.stats.Get(name); got != want {
			t.Errorf("%s = %d, want %d (%v)", name, got, want, n.stats.Snapshot())
		}
	}
}
