package files

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/identity"
)

func testOffer(t testing.TB, size uint64, room string) (*Offer, []byte, *identity.Identity) {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	chunk, _ := chunkSizeFor(size)
	n := chunkCount(size, chunk)
	hashes := make([]Hash, n)
	for i := range hashes {
		hashes[i] = sha256.Sum256([]byte{byte(i)})
	}
	o := &Offer{ID: OfferID{1, 2, 3}, Room: room, Created: time.UnixMilli(1_800_000_000_123), Name: "report.pdf",
		MediaType: "application/pdf", Size: size, ChunkSize: chunk, Root: RootOf(hashes), Chunks: hashes}
	if room == "" {
		o.Peer = identity.PeerID{9}
	}
	return o, SignOffer(o, id), id
}

// offerCases are the table for DecodeOffer and seed its fuzz target.
func offerCases(t testing.TB) []struct {
	name string
	b    []byte
	ok   bool
} {
	_, good, _ := testOffer(t, 3*DefaultChunk+5, "")
	_, room, _ := testOffer(t, 0, "room-1")
	flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 1; return c }
	// The chunk size field sits after the fixed header, name and type.
	o, _, id := testOffer(t, 100, "")
	o.ChunkSize = 1000 // not a power of two
	badChunk := SignOffer(o, id)
	o2, _, id2 := testOffer(t, 100, "")
	o2.Name = ""
	noName := SignOffer(o2, id2)
	o3, _, id3 := testOffer(t, 2*DefaultChunk, "")
	o3.Chunks = o3.Chunks[:1] // manifest shorter than the size says
	o3.Root = RootOf(o3.Chunks)
	short := SignOffer(o3, id3)
	o4, _, id4 := testOffer(t, DefaultChunk, "")
	o4.Root[0] ^= 1 // root does not match the manifest
	badRoot := SignOffer(o4, id4)
	return []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"peer offer", good, true},
		{"room offer, empty file", room, true},
		{"signature flipped", flip(good, len(good)-1), false},
		{"body flipped", flip(good, 60), false},
		{"version", flip(good, 0), false},
		{"truncated", good[:len(good)-70], false},
		{"empty", nil, false},
		{"chunk size not a power of two", badChunk, false},
		{"empty name", noName, false},
		{"manifest too short", short, false},
		{"root mismatch", badRoot, false},
	}
}

func TestDecodeOffer(t *testing.T) {
	for _, tc := range offerCases(t) {
		o, err := DecodeOffer(tc.b)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err == nil && (o.Name != "report.pdf" || RootOf(o.Chunks) != o.Root) {
			t.Errorf("%s: decoded %+v", tc.name, o)
		}
	}
	o, raw, id := testOffer(t, 3*DefaultChunk+5, "")
	got, err := DecodeOffer(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != o.ID || got.Peer != o.Peer || got.Size != o.Size || got.ChunkSize != DefaultChunk || len(got.Chunks) != 4 ||
		!got.Created.Equal(o.Created) || got.MediaType != o.MediaType || got.From() != id.ID {
		t.Fatalf("round trip: %+v", got)
	}
	if got.ChunkLen(3) != 5 || got.ChunkLen(0) != DefaultChunk {
		t.Fatalf("chunk lengths %d %d", got.ChunkLen(0), got.ChunkLen(3))
	}
}

func TestChunkSizeGrowsForLargeFiles(t *testing.T) {
	for _, tc := range []struct {
		size uint64
		want uint32
	}{{0, DefaultChunk}, {MaxChunks * DefaultChunk, DefaultChunk}, {MaxChunks*DefaultChunk + 1, 2 * DefaultChunk}} {
		if got, err := chunkSizeFor(tc.size); err != nil || got != tc.want {
			t.Errorf("size %d: %d %v, want %d", tc.size, got, err, tc.want)
		}
	}
	if _, err := chunkSizeFor(MaxChunks*MaxChunk + 1); err == nil {
		t.Error("accepted a file over the limit")
	}
}

func requestCases() [][]byte {
	ok := EncodeRequest(Request{Root: Hash{7}, Indices: []uint32{0, 5, 1 << 20}})
	zero := append(bytes.Repeat([]byte{1}, HashLen), 0)
	many := append(bytes.Repeat([]byte{1}, HashLen), 65)
	many = append(many, make([]byte, 65*4)...)
	return [][]byte{ok, ok[:len(ok)-1], zero, many, nil, append(bytes.Clone(ok), 0)}
}

func TestDecodeRequest(t *testing.T) {
	want := []bool{true, false, false, false, false, false}
	for i, b := range requestCases() {
		r, err := DecodeRequest(b)
		if (err == nil) != want[i] {
			t.Errorf("case %d: %v", i, err)
		}
		if err == nil && (r.Root != Hash{7} || len(r.Indices) != 3 || r.Indices[2] != 1<<20) {
			t.Errorf("case %d: %+v", i, r)
		}
	}
}

func chunkCases() [][]byte {
	ok := AppendChunk(nil, Hash{3}, 9, []byte("data"))
	return [][]byte{ok, ok[:chunkHeaderLen], nil, make([]byte, chunkHeaderLen+MaxChunk+1)}
}

func TestDecodeChunk(t *testing.T) {
	want := []bool{true, false, false, false}
	for i, b := range chunkCases() {
		c, err := DecodeChunk(b)
		if (err == nil) != want[i] {
			t.Errorf("case %d: %v", i, err)
		}
		if err == nil && (c.Root != Hash{3} || c.Index != 9 || string(c.Data) != "data") {
			t.Errorf("case %d: %+v", i, c)
		}
	}
}

func answerCases() [][]byte {
	ok := EncodeAnswer(Answer{ID: OfferID{5}, Verdict: VerdictDone})
	bad := EncodeAnswer(Answer{ID: OfferID{5}, Verdict: 9})
	return [][]byte{ok, bad, ok[:IDLen], nil}
}

func TestDecodeAnswerAndRoot(t *testing.T) {
	want := []bool{true, false, false, false}
	for i, b := range answerCases() {
		a, err := DecodeAnswer(b)
		if (err == nil) != want[i] {
			t.Errorf("answer case %d: %v", i, err)
		}
		if err == nil && (a.ID != OfferID{5} || a.Verdict != VerdictDone) {
			t.Errorf("answer case %d: %+v", i, a)
		}
	}
	if r, err := DecodeRoot(EncodeRoot(Hash{4})); err != nil || r != (Hash{4}) {
		t.Errorf("root: %v %v", r, err)
	}
	if _, err := DecodeRoot(make([]byte, HashLen+1)); err == nil {
		t.Error("root of 33 bytes accepted")
	}
	if _, _, err := sealedInner([]byte{TypeChunk}); err == nil {
		t.Error("sealed control frame with a bulk inner type accepted")
	}
	if _, err := ParseOfferID("zz"); err == nil {
		t.Error("bad offer id parsed")
	}
	id := OfferID{0xab, 0x01}
	if got, err := ParseOfferID(id.String()); err != nil || got != id {
		t.Errorf("offer id round trip: %v %v", got, err)
	}
}

func TestSafeName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"photo.jpg", "photo.jpg"},
		{"../../etc/passwd", "passwd"},
		{`..\..\windows\system.ini`, "system.ini"},
		{"/abs/path/x.txt", "x.txt"},
		{".bashrc", "bashrc"},
		{"..", ""},
		{"a/..", ""},
		{"", ""},
		{"bad\x00na\nme.txt", "badname.txt"},
		{"C:evil.txt", "Cevil.txt"},
		{strings.Repeat("é", 200), strings.Repeat("é", 127)},
		// Bidi and other format controls (Trojan-Source names): "invoice\u202Efdp.exe"
		// displays as "invoiceexe.pdf" but is an .exe. Before: kept as they were.
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"a\u202Ab\u202Bc\u202Cd\u202De.txt", "abcde.txt"},
		{"x\u2066y\u2067z\u2068w\u2069.txt", "xyzw.txt"},
		{"\u200Fright\u200Eleft\u061C.txt", "rightleft.txt"},
		{"zero\u200Bwidth\uFEFF.txt", "zerowidth.txt"},
		{"line\u2028para\u2029.txt", "linepara.txt"},
		{"soft\u00ADhyphen.txt", "softhyphen.txt"},
		{"\u202E", ""},
		{"r\u00e9sum\u00e9 \u65e5\u672c.pdf", "r\u00e9sum\u00e9 \u65e5\u672c.pdf"},
	} {
		got, err := SafeName(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("SafeName(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("SafeName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestPlaceFileNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("mine"), 0o644)
	os.WriteFile(filepath.Join(dir, "a (1).txt"), []byte("mine too"), 0o644)
	tmp := filepath.Join(dir, ".parley-x.part")
	os.WriteFile(tmp, []byte("new"), 0o600)
	got, err := placeFile(tmp, dir, "a.txt")
	if err != nil || got != filepath.Join(dir, "a (2).txt") {
		t.Fatalf("placed at %s, %v", got, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(b) != "mine" {
		t.Fatal("existing file overwritten")
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatal("temp file left behind")
	}
	if numbered("archive", 3) != "archive (3)" || numbered("x.tar.gz", 1) != "x.tar (1).gz" {
		t.Fatal("numbered names")
	}
}

func FuzzDecodeOffer(f *testing.F) {
	for _, tc := range offerCases(f) {
		f.Add(tc.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := DecodeOffer(b)
		if err != nil {
			return
		}
		// Whatever decodes is within the limits and self-consistent.
		if uint64(len(o.Chunks)) != chunkCount(o.Size, o.ChunkSize) || len(o.Chunks) > MaxChunks || RootOf(o.Chunks) != o.Root {
			t.Fatalf("inconsistent offer accepted: %+v", o)
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	for _, b := range requestCases() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err == nil && (len(r.Indices) == 0 || len(r.Indices) > maxReqIndices) {
			t.Fatalf("request with %d indices accepted", len(r.Indices))
		}
		if err == nil && !bytes.Equal(EncodeRequest(r), b) {
			t.Fatal("request does not round-trip")
		}
	})
}

func FuzzDecodeChunk(f *testing.F) {
	for _, b := range chunkCases() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeChunk(b)
		if err == nil && (len(c.Data) == 0 || len(c.Data) > MaxChunk || binary.BigEndian.Uint32(b[HashLen:]) != c.Index) {
			t.Fatalf("bad chunk accepted: %d bytes", len(c.Data))
		}
	})
}

func FuzzDecodeAnswer(f *testing.F) {
	for _, b := range answerCases() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAnswer(b)
		if err == nil && !bytes.Equal(EncodeAnswer(a), b) {
			t.Fatal("answer does not round-trip")
		}
		if r, err := DecodeRoot(b); err == nil && !bytes.Equal(EncodeRoot(r), b) {
			t.Fatal("root does not round-trip")
		}
	})
}
