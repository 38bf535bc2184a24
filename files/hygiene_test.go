package files

import (
	"crypto/rand"
	"os"
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

// A file that changed on disk after it was offered is not served: a chunk of
// a file written just before its offer (inside the racy window, sourceid.go)
// is hashed again before it goes out (changed stamps alone:
// TestRewriteWithRestoredMtimeNotServed), a changed one is counted
// (files_chunk_changed) and ends the offer, and the recipient hears the
// sender cancelled instead of receiving bytes that fail the manifest. Before:
// the changed chunk was sent, failed its hash at the recipient
// (files_chunk_bad) and the recipient blamed the sender for corruption.
func TestChangedChunkNotServed(t *testing.T) {
	h := newHarness(t)
	sender, victim := h.add("sender"), h.add("victim")
	h.mesh()
	src := writeRandom(t, t.TempDir(), "a.bin", 3*DefaultChunk, 2)
	ids := h.offer(sender, victim, src)
	f, err := os.OpenFile(src, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("changed after the offer"), DefaultChunk+10); err != nil {
		t.Fatal(err)
	}
	f.Close()
	acceptChangedSource(t, h, sender, victim, ids[0])
	if got := victim.stats.Get("files_chunk_bad"); got != 0 {
		t.Errorf("the recipient got %d chunks that failed their hash, want 0", got)
	}
	ev, _ := findEvent(victim, func(e Failed) bool { return e.ID == ids[0] })
	if ev.Reason == ReasonSenderCorrupt {
		t.Errorf("recipient failed with %q: the changed chunk was served", ev.Reason)
	}
	if _, ok := findEvent(sender, func(e Failed) bool { return e.ID == ids[0] && e.Out }); !ok {
		t.Error("the sender's user was not told the offer ended")
	}
}

// acceptChangedSource has victim accept offer id of a file changed since the
// offer and waits for the download to fail and sender to stop serving, with
// the change counted (files_chunk_changed).
func acceptChangedSource(t *testing.T, h *harness, sender, victim *peer, id string) {
	t.Helper()
	if err := victim.svc.Accept(id); err != nil {
		t.Fatal(err)
	}
	h.until("the download to end", 200, func() bool {
		_, ok := findEvent(victim, func(e Failed) bool { return e.ID == id })
		return ok
	})
	h.until("the sender's serving to stop", 50, func() bool { return !sender.svc.busy() })
	if got := sender.stats.Get("files_chunk_changed"); got < 1 {
		t.Errorf("files_chunk_changed = %d, want at least 1 (%v)", got, sender.stats.Snapshot())
	}
}
