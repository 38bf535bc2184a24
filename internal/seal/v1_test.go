package seal

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"testing"

	"parley/identity"
)

// sealV1 writes a version 1 envelope exactly as Seal did before version 2
// (plain Ed25519 signature, hand-made KEM), to test that such envelopes, kept
// in outboxes and custody across the upgrade, still open.
func sealV1(tb testing.TB, sender *identity.Identity, recipient ed25519.PublicKey, plaintext []byte) []byte {
	tb.Helper()
	recipientX, err := x25519Public(recipient)
	if err != nil {
		tb.Fatal(err)
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	shared, err := eph.ECDH(recipientX)
	if err != nil {
		tb.Fatal(err)
	}
	aead, err := newAEADV1(shared, eph.PublicKey().Bytes(), recipientX.Bytes())
	if err != nil {
		tb.Fatal(err)
	}
	rid := identity.IDFromPublicKey(recipient)
	env := make([]byte, headerLen, len(plaintext)+Overhead)
	env[offVersion] = versionV1
	copy(env[offSender:], sender.Public)
	copy(env[offRecipient:], rid[:])
	copy(env[offEphemeral:], eph.PublicKey().Bytes())
	binary.BigEndian.PutUint32(env[offLength:], uint32(len(plaintext)+tagSize))
	env = aead.Seal(env, make([]byte, nonceSize), plaintext, env[:headerLen])
	return append(env, ed25519.Sign(sender.Private, env)...)
}

// Envelopes sealed before version 2 (waiting in an outbox or with a
// custodian) still open and inspect; see the package documentation.
func TestV1StillOpens(t *testing.T) {
	a, b, c := testIdentity(t, "a"), testIdentity(t, "b"), testIdentity(t, "c")
	env := sealV1(t, a, b.Public, []byte("queued before the upgrade"))
	o, err := Open(b, env)
	if err != nil || string(o.Plaintext) != "queued before the upgrade" || o.SenderID != a.ID {
		t.Fatalf("Open(v1) = %q from %v, %v", o.Plaintext, o.SenderID, err)
	}
	checkOpened(t, b, env, o)
	if s, r, err := Inspect(env); err != nil || s != a.ID || r != b.ID {
		t.Fatalf("Inspect(v1) = %v %v %v", s, r, err)
	}
	if _, err := Open(c, env); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("v1 to b opened by c: %v", err)
	}
	// A v1 envelope signed with the seal context (or a v2 one relabelled as
	// v1) fails the signature check: the version byte picks the scheme.
	if _, err := Open(b, resign(env, a, false)); err != nil {
		t.Fatalf("re-signed v1: %v", err)
	}
	ctxSigned := bytes.Clone(env)
	n := len(ctxSigned) - sigSize
	copy(ctxSigned[n:], a.SignContext(identity.ContextSeal, ctxSigned[:n]))
	if _, err := Open(b, ctxSigned); !errors.Is(err, ErrSignature) {
		t.Fatalf("v1 with a context signature: %v, want ErrSignature", err)
	}
	v2 := mustSeal(t, a, b.Public, []byte("new"))
	v2[0] = versionV1
	if _, err := Open(b, v2); !errors.Is(err, ErrSignature) {
		t.Fatalf("v2 relabelled v1: %v, want ErrSignature", err)
	}
}

func TestV1TamperEveryByte(t *testing.T) {
	a, b := testIdentity(t, "a"), testIdentity(t, "b")
	env := sealV1(t, a, b.Public, []byte("tamper me"))
	for i := range env {
		bad := bytes.Clone(env)
		bad[i] ^= 0x01
		if _, err := Open(b, bad); err == nil {
			t.Fatalf("v1 byte %d flipped: Open succeeded", i)
		}
		if _, _, err := Inspect(bad); err == nil {
			t.Fatalf("v1 byte %d flipped: Inspect accepted", i)
		}
	}
	// Re-signed by the genuine sender after a flip in the key or ciphertext:
	// the GCM tag still fails.
	for _, i := range []int{offEphemeral, offEphemeral + 31, headerLen, len(env) - sigSize - 1} {
		bad := bytes.Clone(env)
		bad[i] ^= 0x01
		if _, err := Open(b, resign(bad, a, false)); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("v1 byte %d flipped and re-signed: %v, want ErrDecrypt", i, err)
		}
	}
}
