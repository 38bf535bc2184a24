package discovery

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"parley/identity"
	"parley/internal/wire"
)

// testIdentity returns a deterministic identity; distinct n give distinct keys.
func testIdentity(t testing.TB, n byte) *identity.Identity {
	t.Helper()
	id, err := identity.FromSeed(bytes.Repeat([]byte{n}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// rawBeacon lays out a beacon field by field and signs it with signer, so tests can
// build encodings EncodeBeacon refuses to produce. extLen < 0 means len(ext).
type rawBeacon struct {
	magic   string
	version uint8
	kind    uint8
	pub     ed25519.PublicKey
	seq     uint64
	port    uint16
	extLen  int
	ext     []byte
}

func (rb rawBeacon) build(signer *identity.Identity) []byte {
	var w wire.Writer
	w.Raw([]byte(rb.magic))
	w.U8(rb.version)
	w.U8(rb.kind)
	w.Raw(rb.pub)
	w.U64(rb.seq)
	w.U16(rb.port)
	if rb.extLen < 0 {
		w.U16(uint16(len(rb.ext)))
	} else {
		w.U16(uint16(rb.extLen))
	}
	w.Raw(rb.ext)
	w.Raw(signer.SignContext(identity.ContextBeacon, w.B))
	return w.B
}

func goodRaw(id *identity.Identity) rawBeacon {
	return rawBeacon{magic: beaconMagic, version: beaconVersion, kind: uint8(KindAnnounce), pub: id.Public, seq: 7, port: 4000, extLen: -1}
}

func TestBeaconRoundTrip(t *testing.T) {
	id := testIdentity(t, 1)
	for _, tc := range []struct {
		name     string
		kind     BeaconKind
		seq      uint64
		port     uint16
		label    string
		wantName string
		wantLen  int
	}{
		{"announce with name", KindAnnounce, 1, 48556, "alice", "alice", beaconFixedLen + 2 + 5 + beaconSigLen},
		{"announce without name", KindAnnounce, 1 << 60, 1, "", "", beaconFixedLen + beaconSigLen},
		{"goodbye with name", KindGoodbye, 99, 48556, "bob", "bob", beaconFixedLen + 2 + 3 + beaconSigLen},
		{"goodbye without name", KindGoodbye, 100, 0, "", "", beaconFixedLen + beaconSigLen},
		{"long name truncated to 64", KindAnnounce, 5, 2, strings.Repeat("n", 100), strings.Repeat("n", 64), beaconFixedLen + 2 + 64 + beaconSigLen},
		{"utf-8 name", KindAnnounce, 6, 3, "Zoë ✓", "Zoë ✓", beaconFixedLen + 2 + len("Zoë ✓") + beaconSigLen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkt := EncodeBeacon(id, tc.kind, tc.seq, tc.port, tc.label)
			if len(pkt) != tc.wantLen {
				t.Fatalf("encoded %d bytes, want %d", len(pkt), tc.wantLen)
			}
			if string(pkt[:4]) != beaconMagic || pkt[4] != beaconVersion || pkt[5] != byte(tc.kind) {
				t.Fatalf("header %x", pkt[:6])
			}
			b, err := DecodeBeacon(pkt)
			if err != nil {
				t.Fatal(err)
			}
			if b.Kind != tc.kind || b.Seq != tc.seq || b.Port != tc.port || b.Name != tc.wantName {
				t.Fatalf("decoded %+v", b)
			}
			if b.ID != id.ID || !bytes.Equal(b.PubKey, id.Public) {
				t.Fatalf("decoded identity %s, want %s", b.ID, id.ID)
			}
		})
	}
}

func TestBeaconMaxSizeBoundary(t *testing.T) {
	id := testIdentity(t, 1)
	// Fill the extension area with unknown TLVs up to exactly MaxBeaconSize.
	fill := func(extLen int) []byte {
		var ext []byte
		for len(ext) < extLen {
			n := min(extLen-len(ext)-2, 255)
			ext = append(ext, 200, byte(n))
			ext = append(ext, bytes.Repeat([]byte{'u'}, n)...)
		}
		return ext
	}
	room := MaxBeaconSize - beaconFixedLen - beaconSigLen
	rb := goodRaw(id)
	rb.ext = append(fill(room-7), extName, 5, 'e', 'd', 'g', 'e', 'y')
	pkt := rb.build(id)
	if len(pkt) != MaxBeaconSize {
		t.Fatalf("built %d bytes", len(pkt))
	}
	b, err := DecodeBeacon(pkt)
	if err != nil {
		t.Fatalf("beacon of exactly MaxBeaconSize: %v", err)
	}
	if b.Name != "edgey" {
		t.Fatalf("name after unknown extensions = %q", b.Name)
	}
}

// malformedBeacons are the table cases, reused as fuzz seeds.
func malformedBeacons(t testing.TB) []struct {
	name string
	pkt  []byte
	want error
} {
	victim := testIdentity(t, 1)
	attacker := testIdentity(t, 2)
	good := EncodeBeacon(victim, KindAnnounce, 42, 4000, "victim")
	mutate := func(f func(rb *rawBeacon)) []byte {
		rb := goodRaw(victim)
		f(&rb)
		return rb.build(victim)
	}
	flip := func(i int) []byte {
		p := bytes.Clone(good)
		p[i] ^= 0x03 // on the kind byte this turns announce into goodbye
		return p
	}
	return []struct {
		name string
		pkt  []byte
		want error
	}{
		{"empty", nil, ErrBeaconSize},
		{"one short of minimum", good[:beaconFixedLen+beaconSigLen-1], ErrBeaconSize},
		{"over MaxBeaconSize", mutate(func(rb *rawBeacon) { rb.ext = make([]byte, MaxBeaconSize-beaconFixedLen-beaconSigLen+1) }), ErrBeaconSize},
		{"huge", make([]byte, 4096), ErrBeaconSize},
		{"bad magic", mutate(func(rb *rawBeacon) { rb.magic = "PRLZ" }), ErrBeaconMagic},
		{"lowercase magic", mutate(func(rb *rawBeacon) { rb.magic = "prly" }), ErrBeaconMagic},
		{"version 0", mutate(func(rb *rawBeacon) { rb.version = 0 }), ErrBeaconVersion},
		{"version 2", mutate(func(rb *rawBeacon) { rb.version = 2 }), ErrBeaconVersion},
		{"kind 0", mutate(func(rb *rawBeacon) { rb.kind = 0 }), ErrBeaconKind},
		{"kind 3", mutate(func(rb *rawBeacon) { rb.kind = 3 }), ErrBeaconKind},
		{"kind 255", mutate(func(rb *rawBeacon) { rb.kind = 255 }), ErrBeaconKind},
		{"extension length beyond packet", mutate(func(rb *rawBeacon) { rb.ext = []byte{extName, 1, 'a'}; rb.extLen = 300 }), ErrBeaconFormat},
		{"extension length shorter than area", mutate(func(rb *rawBeacon) { rb.ext = []byte{extName, 1, 'a'}; rb.extLen = 1 }), ErrBeaconFormat},
		{"extension length 0xffff", mutate(func(rb *rawBeacon) { rb.extLen = 0xffff }), ErrBeaconFormat},
		{"TLV value runs past area", mutate(func(rb *rawBeacon) { rb.ext = []byte{extName, 5, 'a', 'b'} }), ErrBeaconFormat},
		{"TLV type without length", mutate(func(rb *rawBeacon) { rb.ext = []byte{extName, 1, 'a', 9} }), ErrBeaconFormat},
		{"flipped magic byte is not a sig error", flip(0), ErrBeaconMagic},
		{"flipped kind byte in signed part", flip(5), ErrBeaconSig},
		{"flipped public key byte", flip(6), ErrBeaconSig},
		{"flipped sequence byte", flip(45), ErrBeaconSig},
		{"flipped port byte", flip(47), ErrBeaconSig},
		{"flipped name byte", flip(beaconFixedLen + 3), ErrBeaconSig},
		{"flipped signature byte", flip(len(good) - 1), ErrBeaconSig},
		{"victim key signed by attacker", goodRaw(victim).build(attacker), ErrBeaconSig},
		{"zero signature", append(bytes.Clone(good[:len(good)-beaconSigLen]), make([]byte, beaconSigLen)...), ErrBeaconSig},
	}
}

func TestDecodeBeaconMalformed(t *testing.T) {
	for _, tc := range malformedBeacons(t) {
		t.Run(tc.name, func(t *testing.T) {
			b, err := DecodeBeacon(tc.pkt)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !b.ID.IsZero() {
				t.Fatalf("rejected beacon still carries ID %s", b.ID)
			}
		})
	}
}

func TestBeaconDropReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{ErrBeaconSize, "beacon_drop_size"},
		{fmt.Errorf("%w: 3 bytes", ErrBeaconSize), "beacon_drop_size"},
		{ErrBeaconMagic, "beacon_drop_magic"},
		{fmt.Errorf("%w 9", ErrBeaconVersion), "beacon_drop_version"},
		{fmt.Errorf("%w 3", ErrBeaconKind), "beacon_drop_kind"},
		{fmt.Errorf("%w: extensions", ErrBeaconFormat), "beacon_drop_malformed"},
		{ErrBeaconSig, "beacon_drop_forged"},
		{errors.New("something else"), "beacon_drop_other"},
	} {
		if got := beaconDropReason(tc.err); got != tc.want {
			t.Errorf("beaconDropReason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	// Every table case maps to its specific counter, never the catch-all.
	for _, tc := range malformedBeacons(t) {
		_, err := DecodeBeacon(tc.pkt)
		if got := beaconDropReason(err); got == "beacon_drop_other" {
			t.Errorf("%s: decode error %v mapped to %q", tc.name, err, got)
		}
	}
}

// FuzzDecodeBeacon checks that decoding never panics and that whatever it accepts is
// well-formed and verifiably signed. Because the fuzzer cannot forge signatures, each
// input is also tried re-signed by a fixed key, which drives the parser past the
// signature check: such a packet must never be reported forged, and when it is the
// canonical layout EncodeBeacon makes, re-encoding must reproduce it byte for byte.
func FuzzDecodeBeacon(f *testing.F) {
	id := testIdentity(f, 1)
	f.Add(EncodeBeacon(id, KindAnnounce, 1, 48556, "alice"))
	f.Add(EncodeBeacon(id, KindGoodbye, 2, 48556, ""))
	f.Add(EncodeBeacon(id, KindAnnounce, 3, 1, strings.Repeat("x", 64)))
	for _, tc := range malformedBeacons(f) {
		f.Add(tc.pkt)
	}
	fuzzKey := testIdentity(f, 9)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		checkDecoded(t, pkt)
		// The peek agrees with the full decoder on every announce that decodes.
		if id, ok := peekAnnouncer(pkt); ok {
			if b, err := DecodeBeacon(pkt); err == nil && b.ID != id {
				t.Fatalf("peek says %v, decoder %v", id, b.ID)
			}
		} else if b, err := DecodeBeacon(pkt); err == nil && b.Kind == KindAnnounce {
			t.Fatalf("peek refused an announce that decodes: %+v", b)
		}

		if len(pkt) < beaconFixedLen+beaconSigLen {
			return
		}
		resigned := bytes.Clone(pkt)
		copy(resigned[6:38], fuzzKey.Public)
		body := resigned[:len(resigned)-beaconSigLen]
		copy(resigned[len(body):], fuzzKey.SignContext(identity.ContextBeacon, body))
		b, err := checkDecoded(t, resigned)
		if errors.Is(err, ErrBeaconSig) {
			t.Fatalf("correctly signed packet reported forged: %x", resigned)
		}
		if err != nil {
			return
		}
		extLen := int(binary.BigEndian.Uint16(resigned[48:50]))
		ext := resigned[beaconFixedLen : beaconFixedLen+extLen]
		canonical := (b.Name == "" && extLen == 0) ||
			(len(b.Name) <= 64 && bytes.Equal(ext, append([]byte{extName, byte(len(b.Name))}, b.Name...)))
		if canonical {
			if again := EncodeBeacon(fuzzKey, b.Kind, b.Seq, b.Port, b.Name); !bytes.Equal(again, resigned) {
				t.Fatalf("re-encoding differs\n got %x\nwant %x", again, resigned)
			}
		}
	})
}

// checkDecoded decodes pkt and, on success, checks every field against the bytes.
func checkDecoded(t *testing.T, pkt []byte) (Beacon, error) {
	t.Helper()
	b, err := DecodeBeacon(pkt)
	if err != nil {
		return b, err
	}
	if len(pkt) > MaxBeaconSize || len(pkt) < beaconFixedLen+beaconSigLen {
		t.Fatalf("accepted a %d-byte beacon", len(pkt))
	}
	if b.Kind != KindAnnounce && b.Kind != KindGoodbye {
		t.Fatalf("accepted kind %d", b.Kind)
	}
	if !bytes.Equal(b.PubKey, pkt[6:38]) || b.ID != identity.IDFromPublicKey(b.PubKey) {
		t.Fatal("decoded key or ID does not match the packet")
	}
	if b.Seq != binary.BigEndian.Uint64(pkt[38:46]) || b.Port != binary.BigEndian.Uint16(pkt[46:48]) {
		t.Fatal("decoded seq or port does not match the packet")
	}
	sig := len(pkt) - beaconSigLen
	if !identity.VerifyContext(b.PubKey, identity.ContextBeacon, pkt[:sig], pkt[sig:]) {
		t.Fatal("accepted a beacon whose signature does not verify")
	}
	if len(b.Name) > 255 || !strings.Contains(string(pkt[beaconFixedLen:sig]), b.Name) {
		t.Fatalf("name %q is not from the extension area", b.Name)
	}
	return b, nil
}
