package talkgroup

import (
	"bytes"
	"testing"

	"parley/identity"
)

func testID(t testing.TB, b byte) *identity.Identity {
	id, err := identity.FromSeed(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCodecRoundTripAndSignature(t *testing.T) {
	id := testID(t, 1)
	frames := []Frame{
		{Kind: KindAudio, Room: "ops", TX: 1234567, Seq: 42, Opus: []byte{1, 2, 3}},
		{Kind: KindEnd, Room: "ops", TX: 1234567},
		{Kind: KindRequest, Room: "r", TX: 9},
		{Kind: KindCancel, Room: "r", TX: 9},
		{Kind: KindTree, Room: "ops", TX: 5, Tree: []identity.PeerID{pid(1), pid(2)}},
	}
	for _, f := range frames {
		p, err := Encode(id, f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(p)
		if err != nil {
			t.Fatalf("%v: %v", f.Kind, err)
		}
		if got.Kind != f.Kind || got.Room != f.Room || got.Speaker != id.ID || got.TX != f.TX || got.Seq != f.Seq ||
			!bytes.Equal(got.Opus, f.Opus) || len(got.Tree) != len(f.Tree) {
			t.Fatalf("round trip %+v → %+v", f, got)
		}
		if err := Verify(p, id.Public); err != nil {
			t.Fatal(err)
		}
		for i := range p { // every byte is covered by the signature
			q := bytes.Clone(p)
			q[i] ^= 0x40
			if Verify(q, id.Public) == nil {
				t.Fatalf("%v: flipped byte %d still verifies", f.Kind, i)
			}
		}
		if Verify(p, testID(t, 2).Public) == nil {
			t.Fatal("verifies under another key")
		}
	}
	for _, tree := range [][]identity.PeerID{{pid(1), pid(2), pid(1)}, {pid(1), id.ID}} {
		p, err := Encode(id, Frame{Kind: KindTree, Room: "ops", Tree: tree})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(p); err == nil {
			t.Fatalf("tree %v decoded: a member twice, or the speaker", tree)
		}
	}
	if _, err := Encode(id, Frame{Kind: KindAudio, Room: "x", Opus: make([]byte, MaxOpus+1)}); err == nil {
		t.Fatal("oversized opus encoded")
	}
	if _, err := Encode(id, Frame{Kind: KindEnd, Room: string(make([]byte, MaxRoom+1))}); err == nil {
		t.Fatal("oversized room encoded")
	}
}

func FuzzDecode(f *testing.F) {
	id := testID(f, 1)
	for _, fr := range []Frame{
		{Kind: KindAudio, Room: "ops", TX: 1, Seq: 2, Opus: []byte{1}},
		{Kind: KindTree, Room: "ops", Tree: []identity.PeerID{pid(1)}},
		{Kind: KindRequest, Room: "ops"},
	} {
		p, _ := Encode(id, fr)
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		fr, err := Decode(p)
		if err != nil {
			return
		}
		if len(fr.Opus) > MaxOpus || len(fr.Tree) > MaxTree || len(fr.Room) > MaxRoom || fr.Room == "" {
			t.Fatalf("decoded past bounds: %d %d %d", len(fr.Opus), len(fr.Tree), len(fr.Room))
		}
		// What decodes re-encodes to the same signed bytes.
		b, err := encodeUnsigned(fr)
		if err != nil {
			t.Fatalf("decoded frame does not encode: %v", err)
		}
		if !bytes.Equal(b, p[:len(p)-sigLen]) {
			t.Fatal("re-encoding differs")
		}
	})
}
