package linkquality

import (
	"encoding/binary"
	"testing"

	"parley/selection"
)

// The node publishes the salted hash of its access point's BSSID, read from its
// wireless interface; another salt gives another cell.
func TestCellPublished(t *testing.T) {
	q, _, _, _ := newFake(t, Config{CellSalt: []byte("team")})
	q.Publish()
	m := decodeExt(t, q)
	bssid := [6]byte{2, 0, 0, 0, 0, 1}
	if m.LinkType != selection.Wireless || m.Cell != CellID([]byte("team"), bssid) {
		t.Fatalf("published link %v cell %x, want wireless %x", m.LinkType, m.Cell, CellID([]byte("team"), bssid))
	}
	if CellID(nil, bssid) == m.Cell || CellID([]byte("team"), [6]byte{2}) == m.Cell {
		t.Fatal("the cell does not depend on the salt and the BSSID")
	}
}

// attr encodes one netlink attribute, padded.
func attr(typ uint16, val []byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(val)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// scanEntry is one GET_SCAN dump message's payload: a genl header and a BSS.
func scanEntry(bssid []byte, status uint32, withStatus bool) []byte {
	inner := attr(nl80211BSSBSSID, bssid)
	if withStatus {
		inner = append(inner, attr(nl80211BSSStatus, binary.NativeEndian.AppendUint32(nil, status))...)
	}
	return append([]byte{0x22, 1, 0, 0}, append(attr(3, []byte{5, 0, 0, 0}), attr(nl80211AttrBSS|nlaNested, inner)...)...)
}

func TestAssociatedBSSID(t *testing.T) {
	ap := []byte{0xaa, 0xbb, 0xcc, 1, 2, 3}
	if got, ok := associatedBSSID(scanEntry(ap, nl80211StatusAssociated, true)); !ok || got != [6]byte(ap) {
		t.Fatalf("associated entry: %x, %v", got, ok)
	}
	for name, b := range map[string][]byte{
		"seen, not associated": scanEntry(ap, 0, true),
		"no status":            scanEntry(ap, 0, false),
		"short BSSID":          scanEntry(ap[:5], nl80211StatusAssociated, true),
		"truncated":            scanEntry(ap, nl80211StatusAssociated, true)[:20],
		"empty":                nil,
	} {
		if got, ok := associatedBSSID(b); ok {
			t.Errorf("%s: %x", name, got)
		}
	}
}

func FuzzAssociatedBSSID(f *testing.F) {
	f.Add(scanEntry([]byte{1, 2, 3, 4, 5, 6}, nl80211StatusAssociated, true))
	f.Add(scanEntry([]byte{1, 2, 3, 4, 5, 6}, 0, true))
	f.Add([]byte{0, 0, 0, 0, 0xff, 0xff, 0x2f, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := associatedBSSID(b)
		if !ok && got != [6]byte{} {
			t.Fatalf("not found, yet %x", got)
		}
	})
}

// The loopback interface has no access point: the real reader (nl80211 on
// Linux) answers unknown, promptly.
func TestReadBSSIDOfLoopback(t *testing.T) {
	if b, ok := readBSSID("lo"); ok {
		t.Fatalf("lo associated with %x", b)
	}
	if _, ok := readBSSID("no-such-interface"); ok {
		t.Fatal("a missing interface has a BSSID")
	}
}
