package hostile

import (
	"errors"
	"testing"

	"parley/chat"
	"parley/discovery"
	"parley/identity"
	"parley/overlay"
)

// The forgeries must fail exactly on the signature (not on some format slip that
// would make the adversarial tests measure the wrong drop counter), and the valid
// Sybil material must pass every check.
func TestForgeriesFailOnlyTheSignature(t *testing.T) {
	victim, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, err := ForgedBeacon(victim.Public, discovery.KindAnnounce, 48556, "victim")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := discovery.DecodeBeacon(b); !errors.Is(err, discovery.ErrBeaconSig) {
		t.Fatalf("forged beacon: %v, want a signature error", err)
	}
	r, err := ForgedRecord(victim.Public, "victim")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := overlay.DecodeRecord(r); !errors.Is(err, overlay.ErrRecordSig) {
		t.Fatalf("forged record: %v, want a signature error", err)
	}

	sybil, err := Throwaway(1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := discovery.DecodeBeacon(ValidBeacon(sybil[0], 9, "sybil"))
	if err != nil || got.ID != sybil[0].ID {
		t.Fatalf("valid beacon: %v %v", got.ID, err)
	}
	raw, err := SignRecord(sybil[0], 7, "sybil", []identity.PeerID{victim.ID})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := overlay.DecodeRecord(raw)
	if err != nil || rec.ID() != sybil[0].ID || len(rec.Neighbours) != 1 || rec.Neighbours[0].ID != victim.ID {
		t.Fatalf("valid record: %+v %v", rec, err)
	}
	if _, err := chat.DecodeBody(ChatMessage("hello")); err != nil {
		t.Fatalf("flood message does not decode: %v", err)
	}
}
