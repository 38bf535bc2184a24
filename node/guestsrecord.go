package node

import (
	"slices"

	"parley/identity"
	"parley/internal/wire"
	"parley/overlay"
)

// # Guest record extensions
//
// Two peer-record extensions (registered in internal/wire/registry.go) tie a
// browser guest to the node that hosts it. Each is a [type u8][len u16][value]
// entry of the signed record (overlay/doc.go), so each is signed by its author.
//
// RecordExtVia (type 4), in the guest's own record: who hosts it.
//
//	offset 0, 16 bytes: the host's peer ID (identity.PeerID, identity.IDLen: the
//	                    truncated hash of its key)
//
// Any other length, or an all-zero ID, is malformed and ignored
// (guest_ext_malformed).
//
// RecordExtGuests (type 6), in the host's record: the guests it hosts now.
//
//	offset 0, 1 byte:         count, 1 to 32 (maxListedGuests)
//	offset 1+16×i, 16 bytes:  guest i's peer ID, i = 0 … count-1; none zero,
//	                          no duplicates
//
// The length must be exactly 1 + 16×count; anything else is malformed and the
// whole list ignored. A host with no guests publishes no extension.
//
// A peer shows another as a guest of HOST (PeerView.Guest, .Via) only when both
// agree: the guest's record says via HOST and HOST's record lists the guest. So
// nobody passes itself off as someone's guest, and no host claims a stranger.

// maxListedGuests bounds RecordExtGuests, and with it Config.MaxGuests: 32
// guests are 513 bytes of the 16 KiB a record may carry (overlay.MaxRecord).
const maxListedGuests = 32

const (
	recordExtVia    = wire.RecordExtVia
	recordExtGuests = wire.RecordExtGuests
)

// encodeVia is the value of RecordExtVia.
func encodeVia(host identity.PeerID) []byte { return slices.Clone(host[:]) }

// decodeVia parses a RecordExtVia value.
func decodeVia(b []byte) (identity.PeerID, bool) {
	var id identity.PeerID
	if len(b) != len(id) {
		return id, false
	}
	copy(id[:], b)
	return id, !id.IsZero()
}

// encodeGuestList is the value of RecordExtGuests; nil for no guests. Callers
// pass at most maxListedGuests distinct IDs.
func encodeGuestList(ids []identity.PeerID) []byte {
	if len(ids) == 0 {
		return nil
	}
	ids = ids[:min(len(ids), maxListedGuests)]
	b := make([]byte, 0, 1+len(ids)*identity.IDLen)
	b = append(b, byte(len(ids)))
	for _, id := range ids {
		b = append(b, id[:]...)
	}
	return b
}

// decodeGuestList parses a RecordExtGuests value.
func decodeGuestList(b []byte) ([]identity.PeerID, bool) {
	if len(b) < 1 {
		return nil, false
	}
	count := int(b[0])
	if count < 1 || count > maxListedGuests || len(b) != 1+count*identity.IDLen {
		return nil, false
	}
	ids := make([]identity.PeerID, count)
	for i := range ids {
		copy(ids[i][:], b[1+i*identity.IDLen:])
		if ids[i].IsZero() || slices.Contains(ids[:i], ids[i]) {
			return nil, false
		}
	}
	return ids, true
}

// extValue is the value of the last extension of type typ in rec (nil: none).
func extValue(rec *overlay.Record, typ uint8) []byte {
	var v []byte
	for _, e := range rec.Extensions {
		if e.Type == typ {
			v = e.Value
		}
	}
	return v
}

// guestExtensions are the extensions this node publishes about guests: a
// guest's node names its host, a host lists its guests.
func (n *Node) guestExtensions() []overlay.Extension {
	if n.cfg.guest != nil {
		return []overlay.Extension{{Type: recordExtVia, Value: encodeVia(n.cfg.guest.via)}}
	}
	if b := encodeGuestList(n.guests.listed()); b != nil {
		return []overlay.Extension{{Type: recordExtGuests, Value: b}}
	}
	return nil
}

// guestOf says whether the author of rec is a guest, and of whom: its record
// names a host (RecordExtVia) and that host's record lists it (RecordExtGuests),
// or this node is that host and hosts it now.
func (n *Node) guestOf(rec *overlay.Record) (bool, string) {
	raw := extValue(rec, recordExtVia)
	if raw == nil {
		return false, ""
	}
	via, ok := decodeVia(raw)
	if !ok {
		n.stats.Add("guest_ext_malformed", 1)
		return false, ""
	}
	id := rec.ID()
	var list []identity.PeerID
	if via == n.id.ID {
		list = n.guests.listed()
	} else if host := n.ov.RecordOf(via); host != nil && !host.Offline {
		if raw = extValue(host, recordExtGuests); raw != nil {
			if list, ok = decodeGuestList(raw); !ok {
				n.stats.Add("guest_ext_malformed", 1)
			}
		}
	}
	if !slices.Contains(list, id) {
		return false, ""
	}
	return true, via.String()
}

// maxTrackedGuestLists bounds the hosts whose guest lists a node remembers for
// noteGuestList: the overlay holds at most 4,096 records (overlay.Config.MaxRecords).
const maxTrackedGuestLists = 4096

// noteGuestList follows a host's published guest list (its record came, changed
// or went, rec nil or offline): a guest it adds or drops gains or loses its
// badge, and a presence event for each online one tells the skins, which
// otherwise would show the badge only from their next roster read.
func (n *Node) noteGuestList(host identity.PeerID, rec *overlay.Record) {
	var raw string
	if rec != nil && !rec.Offline {
		raw = string(extValue(rec, recordExtGuests))
	}
	g := &n.guests
	g.mu.Lock()
	prev, tracked := g.lists[host]
	switch {
	case prev == raw:
		g.mu.Unlock()
		return
	case raw == "":
		delete(g.lists, host)
	case tracked || len(g.lists) < maxTrackedGuestLists:
		if g.lists == nil {
			g.lists = map[identity.PeerID]string{}
		}
		g.lists[host] = raw
	}
	g.mu.Unlock()
	before, _ := decodeGuestList([]byte(prev))
	after, _ := decodeGuestList([]byte(raw))
	for _, id := range append(before, after...) {
		if slices.Contains(before, id) != slices.Contains(after, id) && n.ov.Online(id) {
			n.emit(PresenceChanged{Peer: n.peerView(id)})
		}
	}
}
