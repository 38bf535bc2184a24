package identity

import (
	"crypto/ed25519"
	"testing"
)

func TestContextsDistinct(t *testing.T) {
	id, err := FromSeed(make([]byte, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("\x01the same bytes, signed for every use")
	seen := map[Context]bool{}
	for _, c := range Contexts {
		if seen[c] || c == "" || len(c) > 255 {
			t.Fatalf("context %q is empty, too long or registered twice", c)
		}
		seen[c] = true
		sig := id.SignContext(c, msg)
		if !VerifyContext(id.Public, c, msg, sig) {
			t.Fatalf("%q: own signature does not verify", c)
		}
		if ed25519.Verify(id.Public, msg, sig) {
			t.Fatalf("%q: signature verifies as plain Ed25519", c)
		}
		for _, other := range Contexts {
			if other != c && VerifyContext(id.Public, other, msg, sig) {
				t.Fatalf("a %q signature verifies for %q", c, other)
			}
		}
		if VerifyContext(id.Public, c, append(msg, 0), sig) || VerifyContext(id.Public[:31], c, msg, sig) {
			t.Fatalf("%q: verified for other bytes or a short key", c)
		}
	}
	if VerifyContext(id.Public, ContextRecord, msg, ed25519.Sign(id.Private, msg)) {
		t.Fatal("a plain Ed25519 signature verifies for a context")
	}
}
