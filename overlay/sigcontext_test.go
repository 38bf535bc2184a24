package overlay

import (
	"encoding/binary"
	"testing"

	"parley/internal/seal"
)

// TestRecordIsNotAnEnvelope: a record its author signed must not pass as a
// sealed envelope from that author. Both formats begin with version 1 and the
// signer's key, and both were signed with plain Ed25519 over the bytes before the
// signature, so a record whose display name puts a plausible length at bytes
// 81-85 (where an envelope keeps its ciphertext length) is, byte for byte, a
// validly signed envelope "from" its author to the peer ID seq||issued: a relay
// or custodian checking it with seal.Inspect accepts it. Signature contexts
// (identity.SignContext) make the two signatures different things.
func TestRecordIsNotAnEnvelope(t *testing.T) {
	author := testIdentity(t, 7)
	name := make([]byte, 40) // name[29:33] lands on envelope bytes 81-85
	for i := range name {
		name[i] = 'x'
	}
	rec := &Record{Seq: 1, Name: string(name), Status: "twenty bytes of text"}
	if err := rec.Sign(author); err != nil {
		t.Fatal(err)
	}
	body := len(rec.Raw()) - 64
	binary.BigEndian.PutUint32(name[29:33], uint32(body-85))
	rec = &Record{Seq: 1, Name: string(name), Status: "twenty bytes of text"}
	if err := rec.Sign(author); err != nil {
		t.Fatal(err)
	}
	if len(rec.Raw())-64 != body {
		t.Fatal("the record's length changed")
	}
	if sender, _, err := seal.Inspect(rec.Raw()); err == nil {
		t.Fatalf("a record of %s passed as a sealed envelope from %s", author.ID.Short(), sender.Short())
	}
}
