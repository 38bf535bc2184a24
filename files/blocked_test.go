package files

import (
	"crypto/rand"
	"testing"

	"parley/identity"
	"parley/internal/seal"
)

// sealedOffer is a 1:1 offer from author to the peer to, sealed to it as a
// TypeSealed frame (what a routed offer looks like).
func sealedOffer(t *testing.T, author *identity.Identity, to *peer) []byte {
	t.Helper()
	o, _, _ := testOffer(t, 2*DefaultChunk, "")
	o.Peer = to.id.ID
	rand.Read(o.ID[:])
	o.Name = "from-" + author.ID.Short() + ".bin"
	env, err := seal.Seal(author, to.id.Public, append([]byte{TypeOffer}, SignOffer(o, author)...))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func (p *peer) offers() int {
	n := 0
	for _, ev := range p.all() {
		if _, ok := ev.(Offered); ok {
			n++
		}
	}
	return n
}

// A blocked peer's file offer reaches the user through no path: routed under
// its own ID, routed with a forged source (the routing header is only a hint),
// or handed over a direct link by an accomplice. File control is live, so a
// sealed sender that differs from the link peer or routed source is dropped
// too, blocked or not. Before: all four reached the user (the files service
// took the sealed sender and checked neither; only the overlay dropped routed
// frames whose header named a blocked peer).
func TestBlockedSenderFileOfferDropped(t *testing.T) {
	h := newHarness(t)
	victim, accomplice, honest := h.add("victim"), h.add("accomplice"), h.add("honest")
	h.mesh()
	blockedID, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	victim.blocked = map[identity.PeerID]bool{blockedID.ID: true}

	routed := victim.svc.HandleRouted(TypeSealed)
	direct := victim.svc.HandleDirect(TypeSealed)
	for _, tc := range []struct {
		name    string
		deliver func()
	}{
		{"routed, own source", func() { routed(blockedID.ID, accomplice.id.ID, sealedOffer(t, blockedID, victim)) }},
		{"routed, forged source", func() { routed(honest.id.ID, accomplice.id.ID, sealedOffer(t, blockedID, victim)) }},
		{"direct, via an accomplice", func() { direct(accomplice.id.ID, sealedOffer(t, blockedID, victim)) }},
		{"unblocked, forged source", func() { routed(accomplice.id.ID, accomplice.id.ID, sealedOffer(t, honest.id, victim)) }},
	} {
		before := victim.offers()
		tc.deliver()
		if victim.offers() != before {
			t.Errorf("%s: the offer reached the user", tc.name)
		}
	}
	if got := victim.stats.Get("files_drop_blocked") + victim.stats.Get("files_drop_sender"); got != 4 {
		t.Errorf("files_drop_blocked + files_drop_sender = %d, want 4 (%v)", got, victim.stats.Snapshot())
	}
	// The honest peer's own routed offer still arrives.
	routed(honest.id.ID, accomplice.id.ID, sealedOffer(t, honest.id, victim))
	if victim.offers() != 1 {
		t.Fatalf("an honest routed offer was dropped: %v", victim.stats.Snapshot())
	}
}
