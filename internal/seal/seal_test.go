package seal

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"

	"parley/identity"
)

// testIdentity returns a deterministic identity named by label.
func testIdentity(tb testing.TB, label string) *identity.Identity {
	tb.Helper()
	seed := sha256.Sum256([]byte("seal test identity " + label))
	id, err := identity.FromSeed(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

func mustSeal(tb testing.TB, from *identity.Identity, to ed25519.PublicKey, pt []byte) []byte {
	tb.Helper()
	env, err := Seal(from, to, pt)
	if err != nil {
		tb.Fatalf("Seal: %v", err)
	}
	return env
}

// resign replaces the signature of env with one by signer over the same bytes
// (after the caller has edited them), and optionally puts signer's key in the
// sender field first.
func resign(env []byte, signer *identity.Identity, asSender bool) []byte {
	out := bytes.Clone(env)
	if asSender {
		copy(out[offSender:offRecipient], signer.Public)
	}
	n := len(out) - sigSize
	copy(out[n:], signFor(out[0], signer, out[:n]))
	return out
}

// signFor signs as an envelope of version v signs: plain for 1, with the seal
// context for 2 (and anything else, so a forged version is signed "right").
func signFor(v byte, signer *identity.Identity, msg []byte) []byte {
	if v == versionV1 {
		return ed25519.Sign(signer.Private, msg)
	}
	return signer.SignContext(identity.ContextSeal, msg)
}

// sigOK reports whether env's trailing signature verifies as its version's.
func sigOK(sender ed25519.PublicKey, env []byte) bool {
	n := len(env) - sigSize
	if env[0] == versionV1 {
		return ed25519.Verify(sender, env[:n], env[n:])
	}
	return identity.VerifyContext(sender, identity.ContextSeal, env[:n], env[n:])
}

// kemOf is recipient's version 2 decryption key.
func kemOf(tb testing.TB, recipient *identity.Identity) hpke.PrivateKey {
	tb.Helper()
	o, err := NewOpener(recipient)
	if err != nil {
		tb.Fatal(err)
	}
	return o.kem
}

func TestOverheadLayout(t *testing.T) {
	if headerLen != 85 || Overhead != 165 {
		t.Fatalf("headerLen=%d Overhead=%d, want 85 and 165 as documented", headerLen, Overhead)
	}
	a, b := testIdentity(t, "a"), testIdentity(t, "b")
	pt := []byte("hello, bob")
	env := mustSeal(t, a, b.Public, pt)
	if len(env) != len(pt)+Overhead {
		t.Fatalf("len = %d, want %d", len(env), len(pt)+Overhead)
	}
	if env[0] != 2 {
		t.Errorf("version byte = %d, want 2", env[0])
	}
	if !bytes.Equal(env[1:33], a.Public) {
		t.Error("sender key not at [1,33)")
	}
	if !bytes.Equal(env[33:49], b.ID[:]) {
		t.Error("recipient ID not at [33,49)")
	}
	if got := binary.BigEndian.Uint32(env[81:85]); got != uint32(len(pt)+16) {
		t.Errorf("length field = %d, want %d", got, len(pt)+16)
	}
	if !identity.VerifyContext(a.Public, identity.ContextSeal, env[:len(env)-64], env[len(env)-64:]) {
		t.Error("trailing 64 bytes are not a seal-context signature over the rest")
	}
	if ed25519.Verify(a.Public, env[:len(env)-64], env[len(env)-64:]) {
		t.Error("the signature verifies as plain Ed25519 (no context)")
	}
	if bytes.Contains(env, pt) {
		t.Error("plaintext visible in envelope")
	}
}

func TestRoundTrip(t *testing.T) {
	a, b := testIdentity(t, "a"), testIdentity(t, "b")
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	for _, pt := range [][]byte{nil, {}, {0x42}, big} {
		env := mustSeal(t, a, b.Public, pt)
		o, err := Open(b, env)
		if err != nil {
			t.Fatalf("Open(%d bytes): %v", len(pt), err)
		}
		if !bytes.Equal(o.Plaintext, pt) || o.Plaintext == nil {
			t.Fatalf("plaintext mismatch for %d bytes (nil=%v)", len(pt), o.Plaintext == nil)
		}
		if !bytes.Equal(o.Sender, a.Public) || o.SenderID != a.ID {
			t.Fatalf("sender = %x/%v, want %x/%v", o.Sender, o.SenderID, a.Public, a.ID)
		}
		op, err := NewOpener(b)
		if err != nil {
			t.Fatal(err)
		}
		if o2, err := op.Open(env); err != nil || !bytes.Equal(o2.Plaintext, pt) || o2.SenderID != a.ID {
			t.Fatalf("Opener.Open(%d bytes) = %v", len(pt), err)
		}
		// Opened must not alias the envelope.
		clear(env)
		if !bytes.Equal(o.Sender, a.Public) {
			t.Fatal("Opened.Sender aliases the envelope")
		}
	}
}

func TestMaxPlaintext(t *testing.T) {
	a, b := testIdentity(t, "a"), testIdentity(t, "b")
	pt := make([]byte, MaxPlaintext)
	env := mustSeal(t, a, b.Public, pt)
	if len(env) != MaxEnvelope {
		t.Fatalf("len = %d, want %d", len(env), MaxEnvelope)
	}
	if o, err := Open(b, env); err != nil || len(o.Plaintext) != MaxPlaintext {
		t.Fatalf("Open max: %v", err)
	}
	if _, err := Seal(a, b.Public, make([]byte, MaxPlaintext+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Seal(MaxPlaintext+1) = %v, want ErrTooLarge", err)
	}
}

func TestFreshEphemeral(t *testing.T) {
	a, b := testIdentity(t, "a"), testIdentity(t, "b")
	e1 := mustSeal(t, a, b.Public, []byte("same"))
	e2 := mustSeal(t, a, b.Public, []byte("same"))
	if bytes.Equal(e1[offEphemeral:offLength], e2[offEphemeral:offLength]) {
		t.Fatal("ephemeral key reused")
	}
	if bytes.Equal(e1[headerLen:len(e1)-sigSize], e2[headerLen:len(e2)-sigSize]) {
		t.Fatal("identical ciphertexts for two envelopes")
	}
}

func TestSelfAddressed(t *testing.T) {
	a := testIdentity(t, "a")
	o, err := Open(a, mustSeal(t, a, a.Public, []byte("note to self")))
	if err != nil || string(o.Plaintext) != "note to self" {
		t.Fatalf("Open = %q, %v", o.Plaintext, err)
	}
}

// A relay C on the path cannot read B's mail.
func TestRelayCannotOpen(t *testing.T) {
	a, b, c := testIdentity(t, "a"), testIdentity(t, "b"), testIdentity(t, "c")
	env := mustSeal(t, a, b.Public, []byte("for B only"))

	if _, err := Open(c, env); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("Open by relay = %v, want ErrNotForMe", err)
	}
	if oc, err := NewOpener(c); err != nil {
		t.Fatal(err)
	} else if _, err := oc.Open(env); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("Opener.Open by relay = %v, want ErrNotForMe", err)
	}

	// C rewrites the recipient ID to its own: the header is signed, so the
	// signature check rejects it before anything is decrypted.
	lied := bytes.Clone(env)
	copy(lied[offRecipient:offEphemeral], c.ID[:])
	if _, err := Open(c, lied); !errors.Is(err, ErrSignature) {
		t.Fatalf("Open with rewritten recipient = %v, want ErrSignature", err)
	}

	// C also re-signs the rewritten envelope as itself, so signature and
	// recipient checks pass: the key is still B's, so decryption fails.
	forged := resign(lied, c, true)
	if _, err := Open(c, forged); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Open of re-signed, re-addressed envelope = %v, want ErrDecrypt", err)
	}

	// The pure crypto path: C's derived X25519 key cannot decrypt B's envelope.
	p, err := parse(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.decrypt(kemOf(t, c)); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("decrypt with C's key = %v, want ErrDecrypt", err)
	}
	if _, err := p.decrypt(kemOf(t, a)); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("decrypt with sender's own key = %v, want ErrDecrypt", err)
	}
	if pt, err := p.decrypt(kemOf(t, b)); err != nil || string(pt) != "for B only" {
		t.Fatalf("decrypt with B's key = %q, %v", pt, err)
	}
}

// A relay can only sign as itself: a message it fabricates "from A" opens
// with SenderID = relay, and it cannot transplant A's envelope either.
func TestRelayCannotForge(t *testing.T) {
	a, b, c := testIdentity(t, "a"), testIdentity(t, "b"), testIdentity(t, "c")

	// C fabricates a message claiming (in its text) to be from A.
	fake := mustSeal(t, c, b.Public, []byte("hi, this is A"))
	o, err := Open(b, fake)
	if err != nil {
		t.Fatal(err)
	}
	if o.SenderID != c.ID || o.SenderID == a.ID || !bytes.Equal(o.Sender, c.Public) {
		t.Fatalf("fabricated envelope opened as sender %v, want relay %v", o.SenderID, c.ID)
	}
	if s, _, err := Inspect(fake); err != nil || s != c.ID {
		t.Fatalf("Inspect fabricated = %v, %v; want %v", s, err, c.ID)
	}

	// C puts A's key in the header of its own envelope: the signature is C's.
	claim := bytes.Clone(fake)
	copy(claim[offSender:offRecipient], a.Public)
	if _, err := Open(b, claim); !errors.Is(err, ErrSignature) {
		t.Fatalf("Open with sender swapped to A = %v, want ErrSignature", err)
	}

	// C takes A's genuine envelope, strips A's signature and re-signs as
	// itself (claiming authorship of a message it cannot read). The sender
	// key is in the GCM additional data, so B's decryption fails.
	genuine := mustSeal(t, a, b.Public, []byte("A's words"))
	stolen := resign(genuine, c, true)
	if s, _, err := Inspect(stolen); err != nil || s != c.ID {
		t.Fatalf("Inspect stolen = %v, %v", s, err)
	}
	if _, err := Open(b, stolen); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Open of re-signed envelope = %v, want ErrDecrypt", err)
	}
}

// Flipping any single byte anywhere makes Open fail.
func TestTamperEveryByte(t *testing.T) {
	a, b := testIdentity(t, "a"), testIdentity(t, "b")
	env := mustSeal(t, a, b.Public, []byte("tamper me"))
	for i := range env {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(env)
			bad[i] ^= mask
			if o, err := Open(b, bad); err == nil {
				t.Fatalf("byte %d ^ %#x: Open succeeded with %q", i, mask, o.Plaintext)
			}
			// Every byte is either structural or signed, so a relay's
			// Inspect rejects the same envelope.
			if _, _, err := Inspect(bad); err == nil {
				t.Fatalf("byte %d ^ %#x: Inspect accepted", i, mask)
			}
		}
	}
}

// The GCM tag is checked independently of the signature: with the signature
// recomputed by the genuine sender after a flip in the ephemeral key or the
// ciphertext (so the signature check passes), decryption still fails.
func TestTamperCiphertextResigned(t *testing.T) {
	a, b := testIdentity(t, "a"), testIdentity(t, "b")
	env := mustSeal(t, a, b.Public, []byte("abc"))
	for i := offVersion + 1; i < len(env)-sigSize; i++ {
		if i >= offRecipient && i < offEphemeral {
			continue // rewriting the recipient yields ErrNotForMe
		}
		if i >= offSender && i < offRecipient {
			continue // changing the sender key breaks the key itself
		}
		if i >= offLength && i < headerLen {
			continue // length changes are structural
		}
		bad := bytes.Clone(env)
		bad[i] ^= 0x01
		bad = resign(bad, a, false)
		if _, err := Open(b, bad); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("byte %d flipped and re-signed: Open = %v, want ErrDecrypt", i, err)
		}
	}
}

func TestInspect(t *testing.T) {
	a, b := testIdentity(t, "a"), testIdentity(t, "b")
	env := mustSeal(t, a, b.Public, []byte("x"))
	s, r, err := Inspect(env)
	if err != nil || s != a.ID || r != b.ID {
		t.Fatalf("Inspect = %v, %v, %v; want %v, %v", s, r, err, a.ID, b.ID)
	}
	bad := bytes.Clone(env)
	bad[len(bad)-1] ^= 0x01
	if _, _, err := Inspect(bad); !errors.Is(err, ErrSignature) {
		t.Fatalf("Inspect bad signature = %v, want ErrSignature", err)
	}
	bad = bytes.Clone(env)
	bad[headerLen] ^= 0x01 // ciphertext
	if _, _, err := Inspect(bad); !errors.Is(err, ErrSignature) {
		t.Fatalf("Inspect tampered ciphertext = %v, want ErrSignature", err)
	}
	if _, _, err := Inspect(env[:50]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Inspect truncated = %v, want ErrMalformed", err)
	}
}

// Ed25519 -> X25519 conversion: the public map agrees with the private map,
// and Diffie-Hellman is symmetric across the converted keys.
func TestX25519Conversion(t *testing.T) {
	for i, labels := range [][2]string{{"a", "b"}, {"b", "c"}, {"x", "y"}, {"1", "2"}} {
		a, b := testIdentity(t, labels[0]), testIdentity(t, labels[1])
		privA, privB := x25519Private(a.Private), x25519Private(b.Private)
		pubA, err := x25519Public(a.Public)
		if err != nil {
			t.Fatal(err)
		}
		pubB, err := x25519Public(b.Public)
		if err != nil {
			t.Fatal(err)
		}
		if !privA.PublicKey().Equal(pubA) || !privB.PublicKey().Equal(pubB) {
			t.Fatalf("case %d: X25519(priv, 9) != Montgomery(Ed25519 public)", i)
		}
		ab, err := privA.ECDH(pubB)
		if err != nil {
			t.Fatal(err)
		}
		ba, err := privB.ECDH(pubA)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ab, ba) {
			t.Fatalf("case %d: X25519(privA, pubB) != X25519(privB, pubA)", i)
		}
	}
	// Generated (random) identities too.
	for range 8 {
		a, err := identity.Generate()
		if err != nil {
			t.Fatal(err)
		}
		pub, err := x25519Public(a.Public)
		if err != nil {
			t.Fatal(err)
		}
		if !x25519Private(a.Private).PublicKey().Equal(pub) {
			t.Fatal("conversion mismatch for a generated identity")
		}
	}
}

// smallOrderEd25519 are encodings of the identity and other small-order
// edwards25519 points.
var smallOrderEd25519 = [][]byte{
	// identity (0, 1)
	append([]byte{1}, make([]byte, 31)...),
	// (0, -1), order 2
	{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	// order 4: (sqrt(-1), 0)
	make([]byte, 32),
	// order 8
	{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
		0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
}

func TestBadKeys(t *testing.T) {
	a, b := testIdentity(t, "a"), testIdentity(t, "b")
	for i, k := range smallOrderEd25519 {
		if _, err := Seal(a, k, []byte("x")); !errors.Is(err, ErrBadKey) {
			t.Errorf("Seal to small-order key %d = %v, want ErrBadKey", i, err)
		}
	}
	for _, k := range [][]byte{nil, make([]byte, 31), make([]byte, 33)} {
		if _, err := Seal(a, k, nil); !errors.Is(err, ErrBadKey) {
			t.Errorf("Seal to %d-byte key = %v, want ErrBadKey", len(k), err)
		}
	}
	// Not a point: y = 2 has no x on the curve.
	notPoint := append([]byte{2}, make([]byte, 31)...)
	if _, err := Seal(a, notPoint, nil); !errors.Is(err, ErrBadKey) {
		t.Errorf("Seal to non-point = %v, want ErrBadKey", err)
	}
	if _, err := Seal(nil, b.Public, nil); !errors.Is(err, ErrBadKey) {
		t.Errorf("Seal(nil sender) = %v", err)
	}
	if _, err := Seal(&identity.Identity{}, b.Public, nil); !errors.Is(err, ErrBadKey) {
		t.Errorf("Seal(empty sender) = %v", err)
	}
	env := mustSeal(t, a, b.Public, nil)
	if _, err := Open(nil, env); !errors.Is(err, ErrBadKey) {
		t.Errorf("Open(nil recipient) = %v", err)
	}
	if _, err := NewOpener(&identity.Identity{}); !errors.Is(err, ErrBadKey) {
		t.Errorf("NewOpener(empty) = %v", err)
	}

	// A sender who uses a small-order Ed25519 key can "sign" anything (S=0,
	// R=identity verifies for every message); such envelopes are malformed.
	for i, k := range smallOrderEd25519 {
		bad := bytes.Clone(env)
		copy(bad[offSender:offRecipient], k)
		if _, err := Open(b, bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("small-order sender %d: Open = %v, want ErrMalformed", i, err)
		}
		if _, _, err := Inspect(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("small-order sender %d: Inspect = %v, want ErrMalformed", i, err)
		}
	}
}

// A sender that signs a header with a low-order ephemeral key (forcing an
// all-zero shared secret) is refused at decryption.
func TestLowOrderEphemeral(t *testing.T) {
	a, b := testIdentity(t, "a"), testIdentity(t, "b")
	env := mustSeal(t, a, b.Public, []byte("x"))
	lowOrderX := [][]byte{
		make([]byte, 32),                       // u = 0
		append([]byte{1}, make([]byte, 31)...), // u = 1
		{0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
			0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
	}
	for i, u := range lowOrderX {
		bad := bytes.Clone(env)
		copy(bad[offEphemeral:offLength], u)
		bad = resign(bad, a, false)
		if _, err := Open(b, bad); !errors.Is(err, ErrDecrypt) {
			t.Errorf("low-order ephemeral %d: Open = %v, want ErrDecrypt", i, err)
		}
	}
	// And the ecdh layer itself refuses to produce the zero secret.
	priv := x25519Private(b.Private)
	zero, err := ecdh.X25519().NewPublicKey(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := priv.ECDH(zero); err == nil {
		t.Fatal("ECDH with u=0 succeeded")
	}
}

// malformedCases derives structurally broken envelopes from a valid one.
func malformedCases(tb testing.TB) map[string][]byte {
	tb.Helper()
	a, b := testIdentity(tb, "a"), testIdentity(tb, "b")
	env := mustSeal(tb, a, b.Public, []byte("0123456789"))
	ctEnd := len(env) - sigSize
	with := func(f func([]byte)) []byte {
		c := bytes.Clone(env)
		f(c)
		return c
	}
	setLen := func(n uint32) []byte {
		return with(func(c []byte) { binary.BigEndian.PutUint32(c[offLength:], n) })
	}
	cases := map[string][]byte{
		"empty":                  {},
		"nil":                    nil,
		"version only":           env[:offSender],
		"cut in sender":          env[:offSender+5],
		"cut after sender":       env[:offRecipient],
		"cut after recipient":    env[:offEphemeral],
		"cut after ephemeral":    env[:offLength],
		"cut in length":          env[:offLength+2],
		"header only":            env[:headerLen],
		"cut in ciphertext":      env[:headerLen+3],
		"cut after ciphertext":   env[:ctEnd],
		"cut in signature":       env[:len(env)-1],
		"trailing byte":          append(bytes.Clone(env), 0),
		"version 0":              with(func(c []byte) { c[0] = 0 }),
		"version 3":              with(func(c []byte) { c[0] = 3 }),
		"version 255":            with(func(c []byte) { c[0] = 255 }),
		"length larger by one":   setLen(uint32(ctEnd-headerLen) + 1),
		"length smaller by one":  setLen(uint32(ctEnd-headerLen) - 1),
		"length past the end":    setLen(1000),
		"length zero":            setLen(0),
		"length below tag":       setLen(tagSize - 1),
		"length over max":        setLen(MaxPlaintext + tagSize + 1),
		"length max uint32":      setLen(0xffffffff),
		"length 1<<31":           setLen(1 << 31),
		"165 zero bytes":         make([]byte, Overhead),
		"sender not a point":     with(func(c []byte) { c[offSender] = 2; clear(c[offSender+1 : offRecipient]) }),
		"sender non-canonical":   with(func(c []byte) { copy(c[offSender:], nonCanonicalY1) }),
		"sender identity":        with(func(c []byte) { copy(c[offSender:], smallOrderEd25519[0]) }),
		"version 1, all zero":    append([]byte{1}, make([]byte, Overhead+9)...),
		"header max length only": with(func(c []byte) { binary.BigEndian.PutUint32(c[offLength:], MaxPlaintext+tagSize) })[:headerLen],
	}
	// A longer envelope, so truncations past the header are still at least
	// Overhead bytes and must be caught by the length-field check.
	long := mustSeal(tb, a, b.Public, bytes.Repeat([]byte{7}, 300))
	for name, n := range map[string]int{
		"long: header only":          headerLen,
		"long: cut in ciphertext":    headerLen + 100,
		"long: cut after ciphertext": len(long) - sigSize,
		"long: cut in signature":     len(long) - sigSize/2,
	} {
		cases[name] = long[:n]
	}
	return cases
}

// nonCanonicalY1 encodes y = p+1 (≡ 1, the identity point) non-canonically.
var nonCanonicalY1 = []byte{0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}

func TestMalformed(t *testing.T) {
	b := testIdentity(t, "b")
	for name, env := range malformedCases(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := Open(b, env); !errors.Is(err, ErrMalformed) {
				t.Errorf("Open = %v, want ErrMalformed", err)
			}
			if _, _, err := Inspect(env); !errors.Is(err, ErrMalformed) {
				t.Errorf("Inspect = %v, want ErrMalformed", err)
			}
		})
	}
}

// Non-canonical sender encodings are rejected even for a point of large
// order, so one key cannot appear under two peer IDs.
func TestNonCanonicalSender(t *testing.T) {
	if err := checkSenderKey(nonCanonicalY1); !errors.Is(err, ErrMalformed) {
		t.Fatalf("checkSenderKey(y=p+1) = %v", err)
	}
	// Setting the sign bit on x = 0 (the identity's encoding with bit 255 set)
	// is another non-canonical form.
	k := append([]byte{1}, make([]byte, 31)...)
	k[31] |= 0x80
	if err := checkSenderKey(k); !errors.Is(err, ErrMalformed) {
		t.Fatalf("checkSenderKey(-0) = %v", err)
	}
	a := testIdentity(t, "a")
	if err := checkSenderKey(a.Public); err != nil {
		t.Fatalf("checkSenderKey(honest key) = %v", err)
	}
}

// checkOpened asserts the invariants of a successful Open.
func checkOpened(t *testing.T, recipient *identity.Identity, env []byte, o Opened) {
	t.Helper()
	if len(env) < Overhead {
		t.Fatalf("Open succeeded on %d bytes", len(env))
	}
	if !sigOK(o.Sender, env) {
		t.Fatal("Open succeeded but the signature does not verify under Opened.Sender")
	}
	if !bytes.Equal(o.Sender, env[offSender:offRecipient]) {
		t.Fatal("Opened.Sender differs from the header")
	}
	if o.SenderID != identity.IDFromPublicKey(o.Sender) {
		t.Fatal("SenderID != IDFromPublicKey(Sender)")
	}
	if !bytes.Equal(env[offRecipient:offEphemeral], recipient.ID[:]) {
		t.Fatal("Open succeeded for an envelope addressed elsewhere")
	}
	if len(o.Plaintext) != len(env)-Overhead {
		t.Fatalf("plaintext %d bytes from a %d-byte envelope", len(o.Plaintext), len(env))
	}
}

func fuzzSeeds(f *testing.F) {
	a, b, c := testIdentity(f, "a"), testIdentity(f, "b"), testIdentity(f, "c")
	f.Add(mustSeal(f, a, b.Public, nil))
	f.Add(mustSeal(f, a, b.Public, []byte("x")))
	f.Add(mustSeal(f, a, b.Public, []byte("hello, world")))
	f.Add(mustSeal(f, c, b.Public, []byte("from the relay")))
	f.Add(mustSeal(f, a, c.Public, []byte("for someone else")))
	f.Add(mustSeal(f, b, b.Public, bytes.Repeat([]byte{0xa5}, 300)))
	f.Add(sealV1(f, a, b.Public, []byte("sealed before version 2")))
	f.Add(sealV1(f, a, c.Public, nil))
	for _, env := range malformedCases(f) {
		f.Add(env)
	}
}

func FuzzOpen(f *testing.F) {
	fuzzSeeds(f)
	b := testIdentity(f, "b")
	opener, err := NewOpener(b)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, env []byte) {
		orig := bytes.Clone(env)
		o, err := Open(b, env)
		if !bytes.Equal(env, orig) {
			t.Fatal("Open modified its input")
		}
		o2, err2 := opener.Open(env)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() ||
			!bytes.Equal(o.Plaintext, o2.Plaintext) {
			t.Fatalf("Open and Opener.Open disagree: %v vs %v", err, err2)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrSignature) &&
				!errors.Is(err, ErrNotForMe) && !errors.Is(err, ErrDecrypt) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		checkOpened(t, b, env, o)
		// A successful Open implies Inspect agrees.
		s, r, err := Inspect(env)
		if err != nil || s != o.SenderID || r != b.ID {
			t.Fatalf("Inspect after Open = %v, %v, %v", s, r, err)
		}
	})
}

func FuzzInspect(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, env []byte) {
		s, r, err := Inspect(env)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrSignature) {
				t.Fatalf("unexpected error class: %v", err)
			}
			if !s.IsZero() || !r.IsZero() {
				t.Fatal("Inspect returned IDs with an error")
			}
			return
		}
		sender := ed25519.PublicKey(env[offSender:offRecipient])
		if !sigOK(sender, env) {
			t.Fatal("Inspect accepted an envelope whose signature does not verify")
		}
		if s != identity.IDFromPublicKey(sender) || !bytes.Equal(r[:], env[offRecipient:offEphemeral]) {
			t.Fatal("Inspect IDs disagree with the header")
		}
		if len(env) < Overhead || len(env) > MaxEnvelope {
			t.Fatalf("Inspect accepted a %d-byte envelope", len(env))
		}
	})
}
