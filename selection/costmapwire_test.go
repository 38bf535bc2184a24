package selection

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"

	"parley/identity"
)

func testKey(seed byte) *identity.Identity {
	id, err := identity.FromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	if err != nil {
		panic(err)
	}
	return id
}

func TestSignedCostMapRoundTrip(t *testing.T) {
	cm, err := ParseCostMap(strings.NewReader(sampleMap))
	if err != nil {
		t.Fatal(err)
	}
	key := testKey(1)
	b, err := EncodeSignedCostMap(cm, 1234567, key)
	if err != nil {
		t.Fatal(err)
	}
	// 6 entries: five IPv4 (15 bytes), one IPv6 (39).
	if want := signedMapHeader + 5*15 + 39 + 64; len(b) != want {
		t.Fatalf("%d bytes, want %d", len(b), want)
	}
	got, err := DecodeSignedCostMap(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Signer.Equal(key.Public) || got.Issued != 1234567 || got.Map.String() != cm.String() {
		t.Fatalf("decoded %v %d\n%s, want\n%s", got.Signer, got.Issued, got.Map, cm)
	}
	if s, at, err := SignedCostMapHeader(b); err != nil || !s.Equal(key.Public) || at != 1234567 {
		t.Fatalf("header %v %d %v", s, at, err)
	}
}

// Every byte is covered: flipping any one of them is refused, as a bad signature
// or a malformed map, never accepted.
func TestSignedCostMapTamper(t *testing.T) {
	cm, _ := ParseCostMap(strings.NewReader("10.0.1.0/24 10.0.2.0/24 25\n"))
	b, err := EncodeSignedCostMap(cm, 1, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	sigErrs := 0
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		_, err := DecodeSignedCostMap(c)
		if err == nil {
			t.Fatalf("byte %d flipped: accepted", i)
		}
		if errors.Is(err, ErrSignedMapSignature) {
			sigErrs++
		}
	}
	if sigErrs == 0 {
		t.Fatal("no flip was caught by the signature")
	}
	// Signed by one key but naming another: the signature does not verify.
	c := bytes.Clone(b)
	copy(c[1:33], testKey(2).Public)
	if _, err := DecodeSignedCostMap(c); !errors.Is(err, ErrSignedMapSignature) {
		t.Fatalf("other signer named: %v", err)
	}
}

func TestSignedCostMapBounds(t *testing.T) {
	var text strings.Builder
	for i := range MaxSignedMapEntries + 1 {
		fmt.Fprintf(&text, "10.%d.0.0/16 fd00::/8 1\n", i)
	}
	cm, err := ParseCostMap(strings.NewReader(text.String()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EncodeSignedCostMap(cm, 1, testKey(1)); err == nil {
		t.Fatal("65 entries encoded")
	}
	if _, err := EncodeSignedCostMap(&CostMap{}, 1, testKey(1)); err == nil {
		t.Fatal("an empty map encoded")
	}
	// Mixed families cannot be encoded.
	cm, _ = ParseCostMap(strings.NewReader("10.0.0.0/8 fd00::/8 1\n"))
	if _, err := EncodeSignedCostMap(cm, 1, testKey(1)); err == nil {
		t.Fatal("mixed families encoded")
	}
	// The largest map fits MaxSignedMapLen exactly.
	text.Reset()
	for i := range MaxSignedMapEntries {
		fmt.Fprintf(&text, "fd00:%x::/32 fd01::/16 %d\n", i, i)
	}
	cm, _ = ParseCostMap(strings.NewReader(text.String()))
	b, err := EncodeSignedCostMap(cm, 1, testKey(1))
	if err != nil || len(b) != MaxSignedMapLen {
		t.Fatalf("largest map: %d bytes, %v; want %d", len(b), err, MaxSignedMapLen)
	}
	if _, err := DecodeSignedCostMap(append(b, 0)); !errors.Is(err, ErrSignedMapMalformed) {
		t.Fatalf("one byte over: %v", err)
	}
	for _, short := range [][]byte{nil, b[:41], b[:len(b)-65]} {
		if _, err := DecodeSignedCostMap(short); !errors.Is(err, ErrSignedMapMalformed) {
			t.Fatalf("%d bytes: %v", len(short), err)
		}
	}
}

func FuzzDecodeSignedCostMap(f *testing.F) {
	cm, _ := ParseCostMap(strings.NewReader(sampleMap))
	good, _ := EncodeSignedCostMap(cm, 7, testKey(1))
	f.Add(good)
	f.Add(good[:50])
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeSignedCostMap(b)
		if err != nil {
			return
		}
		if m.Map.Len() == 0 || m.Map.Len() > MaxSignedMapEntries || len(b) > MaxSignedMapLen {
			t.Fatalf("accepted %d entries in %d bytes", m.Map.Len(), len(b))
		}
		// What decodes is the administrator's map: the file form parses again.
		if _, err := ParseCostMap(strings.NewReader(m.Map.String())); err != nil {
			t.Fatalf("decoded map does not parse: %v\n%s", err, m.Map)
		}
	})
}
