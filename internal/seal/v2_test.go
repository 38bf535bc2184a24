package seal

import (
	"bytes"
	"crypto/hpke"
	"encoding/binary"
	"errors"
	"testing"

	"parley/identity"
)

// Seal writes version 2: standard HPKE base mode (DHKEM(X25519), HKDF-SHA256,
// AES-256-GCM, info "parley seal v2") that any RFC 9180 implementation opens
// with the recipient's X25519 key, signed with the seal context.
func TestSealWritesV2(t *testing.T) {
	a, b := testIdentity(t, "a"), testIdentity(t, "b")
	pt := []byte("hpke inside")
	env := mustSeal(t, a, b.Public, pt)
	if env[offVersion] != 2 || Version != 2 {
		t.Fatalf("Seal wrote version %d", env[offVersion])
	}
	n := len(env) - sigSize
	if !identity.VerifyContext(a.Public, identity.ContextSeal, env[:n], env[n:]) {
		t.Fatal("not signed with the seal context")
	}
	ctx, err := hpke.NewRecipient(env[offEphemeral:offLength], kemOf(t, b), hpke.HKDFSHA256(), hpke.AES256GCM(), []byte("parley seal v2"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ctx.Open(env[:headerLen], env[headerLen:n])
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("plain HPKE open = %q, %v", got, err)
	}
	// The header is the aad: the same ciphertext under another header fails.
	ctx, _ = hpke.NewRecipient(env[offEphemeral:offLength], kemOf(t, b), hpke.HKDFSHA256(), hpke.AES256GCM(), []byte("parley seal v2"))
	hdr := bytes.Clone(env[:headerLen])
	hdr[offSender] ^= 1
	if _, err := ctx.Open(hdr, env[headerLen:n]); err == nil {
		t.Fatal("ciphertext opened under another header")
	}
}

// FuzzOpenV2 reaches the version 2 decryption path with arbitrary encapsulated
// keys and ciphertexts: the fuzzer's bytes are framed and signed by a real
// sender, so the structure and signature checks pass and HPKE gets the bytes.
// Nothing may panic, nothing may open, and the error is one of the documented.
func FuzzOpenV2(f *testing.F) {
	a, b := testIdentity(f, "a"), testIdentity(f, "b")
	env := mustSeal(f, a, b.Public, []byte("seed"))
	f.Add(env[offEphemeral:offLength], env[headerLen:len(env)-sigSize], false)
	f.Add(make([]byte, 32), make([]byte, 16), true)
	f.Add([]byte{1}, []byte("short"), false)
	opener, err := NewOpener(b)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, enc, ct []byte, flipSender bool) {
		if len(ct) > 4096 {
			ct = ct[:4096]
		}
		e := make([]byte, headerLen, headerLen+len(ct)+sigSize)
		e[offVersion] = Version
		copy(e[offSender:], a.Public)
		copy(e[offRecipient:], b.ID[:])
		copy(e[offEphemeral:offLength], enc)
		binary.BigEndian.PutUint32(e[offLength:], uint32(len(ct)))
		e = append(e, ct...)
		if flipSender {
			e[offSender+5] ^= 0x40 // probably not a point any more
		}
		e = append(e, a.SignContext(identity.ContextSeal, e)...)
		o, err := opener.Open(e)
		if err == nil {
			// Only the genuine seed can open (its bytes came from Seal).
			if string(o.Plaintext) != "seed" {
				t.Fatalf("opened fuzzed bytes: %q", o.Plaintext)
			}
			return
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrSignature) && !errors.Is(err, ErrDecrypt) {
			t.Fatalf("unexpected error class: %v", err)
		}
	})
}
