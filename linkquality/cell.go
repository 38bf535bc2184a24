package linkquality

import (
	"crypto/sha256"
	"encoding/binary"
)

// The cell: which Wi-Fi access point this node is associated with, published so
// a ranking can tell a relay on the requester's own access point (whose relayed
// traffic crosses that air twice more; selection's sharedAir). The access point
// is named by a salted hash of its BSSID, never the BSSID itself: a BSSID is a
// public hardware address that geolocation databases map to a street address.
// The salt is the team's (Config.CellSalt, derived from the team key) in a closed
// team, so outsiders cannot test guesses against it; in an open network it is
// empty and anyone in the hall could confirm a guessed BSSID, which is no more
// than standing in the room and listening to beacons tells them.
//
// The BSSID comes from the kernel over nl80211 on Linux (bssid_linux.go: the
// scan results' entry marked associated, what `iw dev X link` prints); other
// systems report it unknown (bssid_other.go), and a node with no cell publishes
// none, so nothing is penalised for it.

// CellID is the published cell of the access point bssid under salt (never 0,
// which means unknown).
func CellID(salt []byte, bssid [6]byte) uint64 {
	h := sha256.New()
	h.Write([]byte("parley cell v1\x00"))
	h.Write(salt)
	h.Write(bssid[:])
	v := binary.BigEndian.Uint64(h.Sum(nil))
	if v == 0 {
		v = 1
	}
	return v
}

// Netlink attributes: [len u16][type u16][value], padded to 4 bytes, in the
// host's byte order, len counting the 4-byte header. forAttrs calls fn for each well-formed attribute
// of b and stops at the first malformed one, reporting whether b was whole.
// The kernel writes these bytes, but a decoder trusts nobody: lengths are
// checked before any slice.
func forAttrs(b []byte, fn func(typ uint16, val []byte)) bool {
	for len(b) >= 4 {
		n := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:]) &^ (nlaNested | nlaNetByteorder)
		if n < 4 || n > len(b) {
			return false
		}
		fn(typ, b[4:n])
		adv := (n + 3) &^ 3
		if adv > len(b) {
			return true // the last attribute's padding may be cut off
		}
		b = b[adv:]
	}
	return len(b) == 0
}

const (
	nlaNested       = 0x8000
	nlaNetByteorder = 0x4000
	// nl80211 numbers (linux/nl80211.h), portable copies of x/sys/unix's so the
	// parser and its fuzz target build everywhere.
	nl80211AttrBSS          = 0x2f
	nl80211BSSBSSID         = 0x1
	nl80211BSSStatus        = 0x9
	nl80211StatusAssociated = 0x1
	genlHeaderLen           = 4
)

// associatedBSSID finds, in the generic-netlink payload of one GET_SCAN dump
// message (genl header, then attributes), the BSSID of an entry marked
// associated.
func associatedBSSID(genl []byte) ([6]byte, bool) {
	var out [6]byte
	found := false
	if len(genl) < genlHeaderLen {
		return out, false
	}
	forAttrs(genl[genlHeaderLen:], func(typ uint16, val []byte) {
		if typ != nl80211AttrBSS {
			return
		}
		var bssid []byte
		associated := false
		forAttrs(val, func(t uint16, v []byte) {
			switch {
			case t == nl80211BSSBSSID && len(v) == 6:
				bssid = v
			case t == nl80211BSSStatus && len(v) == 4:
				associated = binary.NativeEndian.Uint32(v) == nl80211StatusAssociated
			}
		})
		if associated && bssid != nil && !found {
			copy(out[:], bssid)
			found = true
		}
	})
	return out, found
}
