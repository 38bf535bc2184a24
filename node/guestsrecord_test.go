package node

import (
	"bytes"
	"slices"
	"testing"

	"parley/identity"
)

func TestGuestListWireFormat(t *testing.T) {
	a, b := identity.PeerID{1}, identity.PeerID{2}
	enc := encodeGuestList([]identity.PeerID{a, b})
	want := append(append([]byte{2}, a[:]...), b[:]...)
	if !bytes.Equal(enc, want) {
		t.Fatalf("encoded % x, want % x", enc, want)
	}
	if got, ok := decodeGuestList(enc); !ok || !slices.Equal(got, []identity.PeerID{a, b}) {
		t.Fatalf("decoded %v %v", got, ok)
	}
	if encodeGuestList(nil) != nil {
		t.Error("no guests encode to something")
	}
	many := make([]identity.PeerID, maxListedGuests+5)
	for i := range many {
		many[i][0], many[i][1] = byte(i), 1
	}
	if got, ok := decodeGuestList(encodeGuestList(many)); !ok || len(got) != maxListedGuests {
		t.Errorf("a long list encodes %d guests (ok %v), want the first %d", len(got), ok, maxListedGuests)
	}
	for name, bad := range map[string][]byte{
		"empty":      {},
		"zero count": {0},
		"short":      want[:len(want)-1],
		"long":       append(slices.Clone(want), 0),
		"over 32":    append([]byte{33}, make([]byte, 33*identity.IDLen)...),
		"duplicate":  append(append([]byte{2}, a[:]...), a[:]...),
		"zero id":    append([]byte{1}, make([]byte, identity.IDLen)...),
	} {
		if got, ok := decodeGuestList(bad); ok {
			t.Errorf("%s: decoded %v", name, got)
		}
	}
	if id, ok := decodeVia(a[:]); !ok || id != a {
		t.Errorf("via: %v %v", id, ok)
	}
	for name, bad := range map[string][]byte{"short": a[:identity.IDLen-1], "long": append(a[:], 0), "zero": make([]byte, identity.IDLen), "32": make([]byte, 32)} {
		if _, ok := decodeVia(bad); ok {
			t.Errorf("via %s decoded", name)
		}
	}
}

// FuzzDecodeGuestList: any input either fails or decodes to a list that
// encodes back to exactly the input.
func FuzzDecodeGuestList(f *testing.F) {
	f.Add([]byte{})
	f.Add(encodeGuestList([]identity.PeerID{{1}, {2}}))
	f.Add(append([]byte{33}, make([]byte, 33*identity.IDLen)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		ids, ok := decodeGuestList(b)
		if !ok {
			return
		}
		if len(ids) == 0 || len(ids) > maxListedGuests || !bytes.Equal(encodeGuestList(ids), b) {
			t.Fatalf("% x decoded to %d ids that do not encode back", b, len(ids))
		}
	})
}

func FuzzDecodeVia(f *testing.F) {
	f.Add(make([]byte, identity.IDLen))
	f.Add(bytes.Repeat([]byte{7}, identity.IDLen))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, ok := decodeVia(b)
		if ok && (id.IsZero() || !bytes.Equal(encodeVia(id), b)) {
			t.Fatalf("% x decoded to %v", b, id)
		}
	})
}
