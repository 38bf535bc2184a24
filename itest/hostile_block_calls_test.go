package itest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"parley/files"
	"parley/identity"
	"parley/internal/hostile"
	"parley/internal/netlab"
	"parley/internal/seal"
	"parley/media/call"
	parleynode "parley/node"
	"parley/overlay"
)

// blockSealedInvite is a call invite from signer to the holder of to, sealed
// as the call signalling frame carries it.
func blockSealedInvite(t *testing.T, signer *identity.Identity, to ed25519.PublicKey) []byte {
	t.Helper()
	b, err := (&call.Message{Kind: call.KindInvite, Call: call.NewID()}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	env, err := seal.Seal(signer, to, b)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// blockSealedOffer is a one-chunk 1:1 file offer from signer to the peer
// holding to, sealed as files.TypeSealed carries it.
func blockSealedOffer(t *testing.T, signer *identity.Identity, to ed25519.PublicKey, name string) []byte {
	t.Helper()
	data := make([]byte, 100)
	rand.Read(data)
	chunks := []files.Hash{sha256.Sum256(data)}
	o := &files.Offer{Peer: identity.IDFromPublicKey(to), Created: time.Now(), Name: name,
		Size: uint64(len(data)), ChunkSize: files.DefaultChunk, Chunks: chunks, Root: files.RootOf(chunks)}
	rand.Read(o.ID[:])
	env, err := seal.Seal(signer, to, append([]byte{files.TypeOffer}, files.SignOffer(o, signer)...))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// TestHostileBlockedCallAndFileOffer: the user blocks a peer. That peer's
// call and file offer must reach the user through no path: its own link
// (refused), routed under its own ID, routed with the routing header naming an
// honest peer, or handed over an accomplice's direct link. Call and file
// frames are live, so the sealed sender must also be the link peer or routed
// source. Control: the accomplice's own offer and call, sent the same ways
// after the blocked ones, do arrive — so the blocked ones were processed (the
// node handles a link's frames in order) and dropped, not lost.
func TestHostileBlockedCallAndFileOffer(t *testing.T) {
	c := newCluster(t)
	victim := c.start(c.host("victim"), "victim")
	honest := c.start(c.host("honest"), "honest")
	evilHost := c.host("evil")
	victim.waitPeerUp(15*time.Second, honest)

	accomplice, err := hostile.New(evilHost.Do)
	if err != nil {
		t.Fatal(err)
	}
	blockedIDs, err := hostile.Throwaway(1)
	if err != nil {
		t.Fatal(err)
	}
	blocked := blockedIDs[0]
	must(victim.Block(blocked.ID.String(), true)).on(victim)
	victimKey := ed25519.PublicKey(victim.pubKey())
	victimID := identity.IDFromPublicKey(victimKey)
	honestID, _ := identity.ParsePeerID(honest.id)
	before := victim.counters()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The blocked peer's own link is refused at the handshake or right after.
	if own, err := accomplice.Dial(ctx, victim.linkAddr(), blocked); err == nil {
		if err := own.Frame(parleynode.TypeCall, blockSealedInvite(t, blocked, victimKey)); err == nil {
			select {
			case <-own.Done():
			case <-time.After(10 * time.Second):
				t.Error("the blocked peer's own link stayed up")
			}
		}
		own.Close()
	}

	link, err := accomplice.Dial(ctx, victim.linkAddr(), accomplice.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()
	if err := link.Sync(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	const ttl = 4
	type path struct {
		name string
		send func(inner uint8, env []byte) error
	}
	paths := []path{
		{"direct, over the accomplice's link", func(inner uint8, env []byte) error { return link.Frame(inner, env) }},
		{"routed under the blocked ID", func(inner uint8, env []byte) error {
			return link.Frame(overlay.TypeRouted, hostile.Routed(ttl, victimID, blocked.ID, inner, env))
		}},
		{"routed with a forged honest source", func(inner uint8, env []byte) error {
			return link.Frame(overlay.TypeRouted, hostile.Routed(ttl, victimID, honestID, inner, env))
		}},
	}
	for _, p := range paths {
		if err := p.send(parleynode.TypeCall, blockSealedInvite(t, blocked, victimKey)); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if err := p.send(files.TypeSealed, blockSealedOffer(t, blocked, victimKey, "blocked.txt")); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
	}
	// An unblocked signer behind a forged routed source is dropped too (live kinds).
	if err := link.Frame(overlay.TypeRouted, hostile.Routed(ttl, victimID, honestID, files.TypeSealed,
		blockSealedOffer(t, accomplice.ID, victimKey, "forged-source.txt"))); err != nil {
		t.Fatal(err)
	}
	if err := link.Sync(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	// The controls, last: the accomplice's own offer and call.
	if err := link.Frame(files.TypeSealed, blockSealedOffer(t, accomplice.ID, victimKey, "control.txt")); err != nil {
		t.Fatal(err)
	}
	if err := link.Frame(parleynode.TypeCall, blockSealedInvite(t, accomplice.ID, victimKey)); err != nil {
		t.Fatal(err)
	}
	if _, err := victim.WaitEventAny(15*time.Second, func(e netlab.Event) bool {
		return e.Name() == "file_offer" && e.Str("name") == "control.txt"
	}); err != nil {
		t.Fatalf("the control offer never arrived: %v", err)
	}
	if _, err := victim.WaitEventAny(15*time.Second, func(e netlab.Event) bool {
		return e.Name() == "call_incoming" && e.Str("from") == accomplice.ID.ID.String()
	}); err != nil {
		t.Fatalf("the control call never arrived: %v", err)
	}

	var offers, calls int
	for _, e := range victim.Events() {
		switch {
		case e.Name() == "file_offer" && e.Str("name") != "control.txt":
			offers++
			t.Errorf("offer reached the user: %v", e)
		case e.Name() == "call_incoming" && e.Str("from") != accomplice.ID.ID.String():
			calls++
			t.Errorf("call reached the user: %v", e)
		}
	}
	after := victim.counters()
	delta := func(k string) float64 { return after[k] - before[k] }
	t.Logf("reached the user: %d offers, %d calls; drops: route_drop_blocked %v, call_drop_sender %v, call_drop_blocked %v, files_drop_sender %v, files_drop_blocked %v",
		offers, calls, delta("route_drop_blocked"), delta("call_drop_sender"), delta("call_drop_blocked"),
		delta("files_drop_sender"), delta("files_drop_blocked"))
	// Six blocked frames and one forged-source offer, each dropped somewhere
	// and counted (which counter depends on the layer that saw it first).
	total := delta("route_drop_blocked") + delta("call_drop_sender") + delta("call_drop_blocked") +
		delta("files_drop_sender") + delta("files_drop_blocked")
	if total < 7 {
		t.Errorf("%v drops counted, want 7", total)
	}
}
