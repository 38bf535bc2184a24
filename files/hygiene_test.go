package files

import (
	"crypto/rand"
	"testing"
	"time"

	"parley/internal/seal"
)

// The name an offer shows the user is the one it would be saved under: a
// Trojan-Source name loses its bidi override before the offer prompt. Before:
// the Offered event carried the author's name as it was, U+202E included.
func TestOfferShowsSafeName(t *testing.T) {
	h := newHarness(t)
	victim, sender := h.add("victim"), h.add("sender")
	h.mesh()
	o, _, _ := testOffer(t, 2*DefaultChunk, "")
	o.Peer = victim.id.ID
	rand.Read(o.ID[:])
	o.Name = "invoice\u202Efdp.exe"
	env, err := seal.Seal(sender.id, victim.id.Public, append([]byte{TypeOffer}, SignOffer(o, sender.id)...))
	if err != nil {
		t.Fatal(err)
	}
	victim.svc.HandleRouted(TypeSealed)(sender.id.ID, sender.id.ID, env)
	ev, ok := findEvent(victim, func(Offered) bool { return true })
	if !ok {
		t.Fatalf("no offer: %v", victim.stats.Snapshot())
	}
	if ev.Name != "invoicefdp.exe" {
		t.Fatalf("offer shown as %q, want %q", ev.Name, "invoicefdp.exe")
	}
}

// An offer nobody answers expires after a day: it stops holding one of the
// sender's pending slots (and our memory and store), the user is told, and
// the sender, still re-offering, hears it was cancelled. Before: pending
// offers never expired, so a peer's 64 unanswered offers held its slots (and
// 1,024 of them everyone's) for good.
func TestPendingOfferExpires(t *testing.T) {
	h := newHarness(t)
	sender, victim := h.add("sender"), h.add("victim")
	h.mesh()
	src := writeRandom(t, t.TempDir(), "a.bin", 3*DefaultChunk, 1)
	ids := h.offer(sender, victim, src)
	// A day less a minute: still pending.
	h.clock.advance(24*time.Hour - time.Minute)
	h.step()
	if _, ok := findEvent(victim, func(e Failed) bool { return e.ID == ids[0] }); ok {
		t.Fatal("the offer expired early")
	}
	h.clock.advance(2 * time.Minute)
	h.until("expiry", 60, func() bool {
		_, ok := findEvent(victim, func(e Failed) bool { return e.ID == ids[0] && !e.Out })
		return ok
	})
	if got := victim.stats.Get("files_offer_expired"); got != 1 {
		t.Fatalf("files_offer_expired = %d, want 1", got)
	}
	if err := victim.svc.Accept(ids[0]); err == nil {
		t.Fatal("an expired offer was accepted")
	}
	// The sender re-offers every 10 s; the answer tells it the offer is over.
	h.until("the sender told", 200, func() bool {
		_, ok := findEvent(sender, func(e Failed) bool { return e.ID == ids[0] && e.Out })
		return ok
	})
}
