package files

import (
	"crypto/rand"
	"testing"

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
