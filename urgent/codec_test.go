package urgent

import (
	"bytes"
	"testing"
	"time"

	"parley/identity"
)

func TestBodyRoundTrip(t *testing.T) {
	at := time.UnixMilli(1_765_000_000_123)
	for _, b := range []Body{
		{Kind: KindMessage, ID: NewID(), At: at, Room: "r1", Text: "fire on floor 3"},
		{Kind: KindMessage, ID: NewID(), At: at, Text: "x"},
		{Kind: KindAck, ID: NewID(), At: at},
		{Kind: KindCancel, ID: NewID(), At: at},
	} {
		got, err := DecodeBody(EncodeBody(b))
		if err != nil {
			t.Fatalf("%+v: %v", b, err)
		}
		if got.Kind != b.Kind || got.ID != b.ID || !got.At.Equal(b.At) || got.Room != b.Room || got.Text != b.Text {
			t.Fatalf("got %+v, want %+v", got, b)
		}
	}
	// The documented layout: an acknowledgement is exactly 26 bytes.
	if n := len(EncodeBody(Body{Kind: KindAck, At: at})); n != bodyHeader {
		t.Fatalf("ack of %d bytes, want %d", n, bodyHeader)
	}
	for name, b := range map[string][]byte{
		"empty":    nil,
		"version":  append([]byte{2}, EncodeBody(Body{Kind: KindAck})[1:]...),
		"kind":     append([]byte{1, 9}, EncodeBody(Body{Kind: KindAck})[2:]...),
		"no text":  EncodeBody(Body{Kind: KindMessage, At: at}),
		"too long": EncodeBody(Body{Kind: KindMessage, At: at, Text: string(make([]byte, MaxText+1))}),
		"short":    EncodeBody(Body{Kind: KindMessage, At: at, Text: "hello"})[:30],
		"bad utf8": EncodeBody(Body{Kind: KindMessage, At: at, Text: "\xff"}),
	} {
		if _, err := DecodeBody(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestAlertSignedByOrigin(t *testing.T) {
	id, _ := identity.Generate()
	aid := NewID()
	at := time.UnixMilli(1_765_000_000_000)
	p := SignAlert(id, aid, at, "evacuate")
	a, err := DecodeAlert(p)
	if err != nil {
		t.Fatal(err)
	}
	if a.Origin != id.ID || a.ID != aid || a.Text != "evacuate" || !a.At.Equal(at) || a.Hops != alertHops {
		t.Fatalf("decoded %+v", a)
	}
	// Hops are not signed: a relay lowers them and the signature still holds.
	fwd := bytes.Clone(p)
	fwd[0] = 3
	if a, err := DecodeAlert(fwd); err != nil || a.Hops != 3 {
		t.Fatalf("forwarded alert: %v %+v", err, a)
	}
	for i := 1; i < len(p); i++ { // every signed byte matters
		bad := bytes.Clone(p)
		bad[i] ^= 1
		if _, err := DecodeAlert(bad); err == nil {
			t.Fatalf("alert with byte %d flipped verified", i)
		}
	}
	for name, b := range map[string][]byte{
		"hops 0":   append([]byte{0}, p[1:]...),
		"hops 17":  append([]byte{17}, p[1:]...),
		"trailing": append(bytes.Clone(p), 0),
		"short":    p[:len(p)-1],
	} {
		if _, err := DecodeAlert(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func FuzzDecodeBody(f *testing.F) {
	at := time.UnixMilli(1_765_000_000_000)
	f.Add(EncodeBody(Body{Kind: KindMessage, ID: NewID(), At: at, Room: "room", Text: "help"}))
	f.Add(EncodeBody(Body{Kind: KindAck, ID: NewID(), At: at}))
	f.Add([]byte{1, 1})
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := DecodeBody(p)
		if err != nil {
			return
		}
		again, err := DecodeBody(EncodeBody(b))
		if err != nil || again != b {
			t.Fatalf("re-encoding %+v gave %+v, %v", b, again, err)
		}
	})
}

func FuzzDecodeAlert(f *testing.F) {
	id, _ := identity.FromSeed(make([]byte, 32))
	f.Add(SignAlert(id, ID{1}, time.UnixMilli(1_765_000_000_000), "evacuate"))
	f.Add(make([]byte, alertHeader+65))
	f.Fuzz(func(t *testing.T, p []byte) {
		a, err := DecodeAlert(p)
		if err != nil {
			return
		}
		// Only the holder of the key can have made it.
		if a.Origin != identity.IDFromPublicKey(a.Key) || len(a.Text) == 0 || len(a.Text) > MaxAlertText {
			t.Fatalf("accepted %+v", a)
		}
	})
}
