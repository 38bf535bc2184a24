package overlay

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

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

func fullRecord(t testing.TB) *Record {
	return &Record{
		Seq:      1_700_000_000_123_456,
		Issued:   time.UnixMilli(1_700_000_000_123),
		Offline:  true,
		Presence: Busy,
		Name:     "Zoë",
		Status:   "in a meeting ✓",
		Addrs: []netip.AddrPort{
			netip.MustParseAddrPort("192.0.2.7:48556"),
			netip.MustParseAddrPort("[2001:db8::7]:48556"),
			netip.MustParseAddrPort("[fe80::1%eth0]:48556"),
		},
		Caps: []string{"chat/1", "files/1"},
		Neighbours: []NeighbourInfo{
			{ID: testIdentity(t, 2).ID, RTT: 1234 * time.Microsecond},
			{ID: testIdentity(t, 3).ID, RTT: 0},
		},
		Extensions: []Extension{{Type: 7, Value: []byte("seven")}, {Type: 200, Value: []byte{}}},
	}
}

// sameContent compares everything a record carries except the raw encoding.
func sameContent(a, b *Record) bool {
	ca, cb := *a, *b
	ca.raw, cb.raw = nil, nil
	ca.Issued, cb.Issued = time.UnixMilli(a.Issued.UnixMilli()), time.UnixMilli(b.Issued.UnixMilli())
	norm := func(r *Record) {
		if len(r.Addrs) == 0 {
			r.Addrs = nil
		}
		if len(r.Caps) == 0 {
			r.Caps = nil
		}
		if len(r.Neighbours) == 0 {
			r.Neighbours = nil
		}
		if len(r.Extensions) == 0 {
			r.Extensions = nil
		}
		exts := make([]Extension, len(r.Extensions))
		for i, e := range r.Extensions {
			exts[i] = Extension{Type: e.Type, Value: append([]byte{}, e.Value...)}
		}
		if r.Extensions != nil {
			r.Extensions = exts
		}
	}
	norm(&ca)
	norm(&cb)
	return reflect.DeepEqual(ca, cb)
}

func TestRecordRoundTrip(t *testing.T) {
	author := testIdentity(t, 1)
	for _, tc := range []struct {
		name string
		rec  *Record
	}{
		{"all fields", fullRecord(t)},
		{"minimal", &Record{Seq: 1, Issued: time.UnixMilli(5)}},
		{"limits", &Record{
			Seq: 2, Issued: time.UnixMilli(0), Presence: Away,
			Name: strings.Repeat("n", 64), Status: strings.Repeat("s", maxStatusText),
			Caps: make([]string, maxCaps), Neighbours: make([]NeighbourInfo, maxNeighbours),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.rec.Sign(author); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tc.rec.PubKey, author.Public) || tc.rec.ID() != author.ID {
				t.Fatal("Sign did not set the author's key")
			}
			got, err := DecodeRecord(tc.rec.Raw())
			if err != nil {
				t.Fatal(err)
			}
			if !sameContent(got, tc.rec) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", got, tc.rec)
			}
			if !bytes.Equal(got.Raw(), tc.rec.Raw()) || got.ID() != author.ID {
				t.Fatal("decoded raw form or ID differs")
			}
			// The decoded record keeps its own copy of the bytes.
			raw := tc.rec.Raw()
			raw[len(raw)-1] ^= 1
			if bytes.Equal(got.Raw(), raw) {
				t.Fatal("decoded record aliases the input buffer")
			}
			raw[len(raw)-1] ^= 1
		})
	}
}

func TestRecordRTTEncoding(t *testing.T) {
	author := testIdentity(t, 1)
	rec := &Record{Seq: 1, Neighbours: []NeighbourInfo{
		{ID: testIdentity(t, 2).ID, RTT: 1500 * time.Nanosecond},        // below 1 µs resolution
		{ID: testIdentity(t, 3).ID, RTT: 2 * time.Hour},                 // beyond u32 µs
		{ID: testIdentity(t, 4).ID, RTT: 4294967295 * time.Microsecond}, // exactly the cap
	}}
	if err := rec.Sign(author); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRecord(rec.Raw())
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{time.Microsecond, (1<<32 - 1) * time.Microsecond, (1<<32 - 1) * time.Microsecond}
	for i, n := range got.Neighbours {
		if n.RTT != want[i] {
			t.Errorf("neighbour %d RTT = %v, want %v", i, n.RTT, want[i])
		}
	}
}

func TestRecordTamperedIsForged(t *testing.T) {
	author := testIdentity(t, 1)
	rec := fullRecord(t)
	if err := rec.Sign(author); err != nil {
		t.Fatal(err)
	}
	raw := rec.Raw()
	// Every byte after the version is covered by the signature (a changed version
	// byte is a format error, reported before the signature is checked).
	for i := 1; i < len(raw); i++ {
		bad := bytes.Clone(raw)
		bad[i] ^= 0x40
		if _, err := DecodeRecord(bad); !errors.Is(err, ErrRecordSig) {
			t.Fatalf("byte %d flipped: err = %v, want ErrRecordSig", i, err)
		}
	}
	// A valid record re-signed by someone else but naming the author's key.
	other := testIdentity(t, 2)
	body := bytes.Clone(raw[:len(raw)-ed25519.SignatureSize])
	forged := append(body, other.SignContext(identity.ContextRecord, body)...)
	if _, err := DecodeRecord(forged); !errors.Is(err, ErrRecordSig) {
		t.Fatalf("re-signed by another key: err = %v, want ErrRecordSig", err)
	}
}

func TestRecordSignLimits(t *testing.T) {
	author := testIdentity(t, 1)
	for _, tc := range []struct {
		name string
		rec  Record
	}{
		{"status over 512 bytes", Record{Status: strings.Repeat("s", maxStatusText+1)}},
		{"name over 64 bytes", Record{Name: strings.Repeat("n", 65)}},
		{"33 capabilities", Record{Caps: make([]string, maxCaps+1)}},
		{"513 neighbours", Record{Neighbours: make([]NeighbourInfo, maxNeighbours+1)}},
		{"over MaxRecord", Record{Extensions: []Extension{{Type: 1, Value: make([]byte, MaxRecord)}}}},
		{"presence out of range", Record{Presence: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.rec.Sign(author); err == nil {
				t.Fatalf("Sign accepted it (%d bytes)", len(tc.rec.Raw()))
			}
			if tc.rec.Raw() != nil {
				t.Fatal("failed Sign left a raw encoding")
			}
		})
	}
	// Too many addresses are cut to the limit rather than refused.
	rec := Record{}
	for i := range maxAddrs + 4 {
		rec.Addrs = append(rec.Addrs, netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 1))
	}
	if err := rec.Sign(author); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRecord(rec.Raw())
	if err != nil || len(got.Addrs) != maxAddrs {
		t.Fatalf("decoded %d addresses (err %v), want %d", len(got.Addrs), err, maxAddrs)
	}
}

// recordBody writes a record's fields after the header; tests change one thing at a
// time to produce encodings Sign refuses to make.
type recordBody struct {
	version  uint8
	presence uint8
	name     []byte
	status   []byte
	nAddrs   int
	addrs    []string
	nCaps    int
	caps     []string
	nNbs     int
	nbs      int // how many neighbour entries to actually write
	ext      []byte
	trailer  []byte
}

func validBody() recordBody {
	return recordBody{version: recordVersion, name: []byte("x"), nAddrs: -1, addrs: []string{"192.0.2.1:1"}, nCaps: -1, caps: []string{"chat"}, nNbs: -1}
}

// signedRecord encodes b with signer's key and signature.
func (b recordBody) signedRecord(signer *identity.Identity) []byte {
	var w wire.Writer
	w.U8(b.version)
	w.Raw(signer.Public)
	w.U64(9)
	w.U64(1000)
	w.U8(0)
	w.U8(b.presence)
	w.Bytes8(b.name)
	w.Bytes16(b.status)
	count := func(n, dflt int) int {
		if n < 0 {
			return dflt
		}
		return n
	}
	w.U8(uint8(count(b.nAddrs, len(b.addrs))))
	for _, a := range b.addrs {
		w.Str8(a)
	}
	w.U8(uint8(count(b.nCaps, len(b.caps))))
	for _, c := range b.caps {
		w.Str8(c)
	}
	w.U16(uint16(count(b.nNbs, b.nbs)))
	for range b.nbs {
		w.Raw(make([]byte, identity.IDLen))
		w.U32(1)
	}
	w.Bytes16(b.ext)
	w.Raw(b.trailer)
	w.Raw(signer.SignContext(identity.ContextRecord, w.B))
	return w.B
}

func malformedRecords(t testing.TB) []struct {
	name string
	b    []byte
	want error
} {
	id := testIdentity(t, 1)
	mod := func(f func(b *recordBody)) []byte {
		b := validBody()
		f(&b)
		return b.signedRecord(id)
	}
	return []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrRecordFormat},
		{"shorter than key and signature", make([]byte, 1+32+63), ErrRecordFormat},
		{"over MaxRecord", make([]byte, MaxRecord+1), ErrRecordFormat},
		{"version 0", mod(func(b *recordBody) { b.version = 0 }), ErrRecordFormat},
		{"version 2", mod(func(b *recordBody) { b.version = 2 }), ErrRecordFormat},
		{"presence 3", mod(func(b *recordBody) { b.presence = 3 }), ErrRecordFormat},
		{"status 513 bytes", mod(func(b *recordBody) { b.status = make([]byte, maxStatusText+1) }), ErrRecordFormat},
		{"17 addresses", mod(func(b *recordBody) { b.nAddrs = maxAddrs + 1 }), ErrRecordFormat},
		{"address is not ip:port", mod(func(b *recordBody) { b.addrs = []string{"not-an-address"} }), ErrRecordFormat},
		{"address without port", mod(func(b *recordBody) { b.addrs = []string{"192.0.2.1"} }), ErrRecordFormat},
		{"address host name", mod(func(b *recordBody) { b.addrs = []string{"example.com:80"} }), ErrRecordFormat},
		{"address count beyond data", mod(func(b *recordBody) { b.nAddrs = 2 }), ErrRecordFormat},
		{"33 capabilities", mod(func(b *recordBody) { b.nCaps = maxCaps + 1 }), ErrRecordFormat},
		{"513 neighbours", mod(func(b *recordBody) { b.nNbs = maxNeighbours + 1 }), ErrRecordFormat},
		{"neighbour count beyond data", mod(func(b *recordBody) { b.nNbs = 3; b.nbs = 1 }), ErrRecordFormat},
		{"extension value runs past area", mod(func(b *recordBody) { b.ext = []byte{7, 0, 9, 'a'} }), ErrRecordFormat},
		{"extension type without length", mod(func(b *recordBody) { b.ext = []byte{7} }), ErrRecordFormat},
	}
}

func TestDecodeRecordMalformed(t *testing.T) {
	for _, tc := range malformedRecords(t) {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := DecodeRecord(tc.b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if rec != nil {
				t.Fatal("rejected record returned non-nil")
			}
		})
	}
}

func TestDecodeRecordToleratesTrailingBytes(t *testing.T) {
	id := testIdentity(t, 1)
	b := validBody()
	b.ext = []byte{9, 0, 1, 'z'}
	b.trailer = []byte("future field")
	rec, err := DecodeRecord(b.signedRecord(id))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Extensions) != 1 || rec.Extensions[0].Type != 9 || string(rec.Extensions[0].Value) != "z" {
		t.Fatalf("extensions %+v", rec.Extensions)
	}
}

// FuzzDecodeRecord checks that decoding never panics and that an accepted record
// respects every limit and decodes again from its Raw form to the same thing. Since
// the fuzzer cannot forge signatures, each input is also tried with a fixed key and
// a fresh signature, so the field parser itself is fuzzed: such a record must never
// be reported forged, and when accepted, signing its decoded content again must give
// a record with the same content.
func FuzzDecodeRecord(f *testing.F) {
	author := testIdentity(f, 1)
	full := fullRecord(f)
	if err := full.Sign(author); err != nil {
		f.Fatal(err)
	}
	f.Add(full.Raw())
	minimal := &Record{Seq: 1}
	if err := minimal.Sign(author); err != nil {
		f.Fatal(err)
	}
	f.Add(minimal.Raw())
	for _, tc := range malformedRecords(f) {
		f.Add(tc.b)
	}
	fuzzKey := testIdentity(f, 9)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkRecord(t, b)

		if len(b) < 1+32+ed25519.SignatureSize || len(b) > MaxRecord {
			return
		}
		resigned := bytes.Clone(b)
		copy(resigned[1:33], fuzzKey.Public)
		body := resigned[:len(resigned)-ed25519.SignatureSize]
		copy(resigned[len(body):], fuzzKey.SignContext(identity.ContextRecord, body))
		rec, err := checkRecord(t, resigned)
		if errors.Is(err, ErrRecordSig) {
			t.Fatal("correctly signed record reported forged")
		}
		if err != nil {
			return
		}
		again := *rec
		again.raw = nil
		if err := again.Sign(fuzzKey); err != nil {
			// Sign is stricter than the decoder in one respect: names over 64 bytes.
			if len(rec.Name) <= 64 {
				t.Fatalf("cannot re-sign decoded record: %v", err)
			}
			return
		}
		dec, err := DecodeRecord(again.Raw())
		if err != nil {
			t.Fatalf("re-signed record does not decode: %v", err)
		}
		if !sameContent(dec, rec) {
			t.Fatalf("content changed through re-signing\n got %+v\nwant %+v", dec, rec)
		}
	})
}

// checkRecord decodes b and, on success, checks limits and the Raw round trip.
func checkRecord(t *testing.T, b []byte) (*Record, error) {
	t.Helper()
	rec, err := DecodeRecord(b)
	if err != nil {
		if rec != nil {
			t.Fatal("error with a non-nil record")
		}
		if !errors.Is(err, ErrRecordFormat) && !errors.Is(err, ErrRecordSig) {
			t.Fatalf("error outside the documented set: %v", err)
		}
		return nil, err
	}
	switch {
	case len(b) > MaxRecord:
		t.Fatalf("accepted %d bytes", len(b))
	case len(rec.Addrs) > maxAddrs, len(rec.Caps) > maxCaps, len(rec.Neighbours) > maxNeighbours:
		t.Fatalf("counts over limits: %d addrs, %d caps, %d neighbours", len(rec.Addrs), len(rec.Caps), len(rec.Neighbours))
	case len(rec.Status) > maxStatusText, len(rec.Name) > 255, rec.Presence > Busy:
		t.Fatalf("field over limit: status %d, name %d, presence %d", len(rec.Status), len(rec.Name), rec.Presence)
	case !bytes.Equal(rec.Raw(), b):
		t.Fatal("Raw differs from the input")
	case !identity.VerifyContext(rec.PubKey, identity.ContextRecord, b[:len(b)-ed25519.SignatureSize], b[len(b)-ed25519.SignatureSize:]):
		t.Fatal("accepted a record whose signature does not verify")
	}
	// What the duplicate filter reads must be what the full decoder reads.
	if id, seq, ok := peekRecord(b); !ok || id != rec.ID() || seq != rec.Seq {
		t.Fatalf("peekRecord = %v, %d, %v; DecodeRecord said %v, %d", id, seq, ok, rec.ID(), rec.Seq)
	}
	for _, a := range rec.Addrs {
		if !a.IsValid() {
			t.Fatalf("accepted invalid address %v", a)
		}
	}
	again, err := DecodeRecord(rec.Raw())
	if err != nil || again.Seq != rec.Seq || again.ID() != rec.ID() {
		t.Fatalf("re-decoding Raw: %v", err)
	}
	return rec, nil
}

// What a flooded copy costs to recognise: its sequence number (peekRecord), against
// the full decode with its signature check that every copy used to pay.
func BenchmarkRecordCopy(b *testing.B) {
	full := fullRecord(b)
	if err := full.Sign(testIdentity(b, 1)); err != nil {
		b.Fatal(err)
	}
	raw := full.Raw()
	b.Run("peek", func(b *testing.B) {
		for b.Loop() {
			if _, _, ok := peekRecord(raw); !ok {
				b.Fatal("peek failed")
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeRecord(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
