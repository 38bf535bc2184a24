package node

import (
	"parley/internal/wire"
	"parley/overlay"
)

// # Device record extension
//
// RecordExtDevice (type 7), in a hosted client's own record: what kind of
// device it is, so rosters can show a phone badge.
//
//	offset 0, 1 byte: kind; 1 = a SIP phone registered with its host
//
// Any other length or kind is ignored (not a device). It counts only for a
// peer shown as its host's client (guestOf: both records agree), so nobody
// gains a phone badge without a host that vouches for it.

const recordExtDevice = wire.RecordExtDevice

// deviceKindSIP is RecordExtDevice's kind of a registered SIP phone.
const deviceKindSIP = 1

// deviceExtensions is what a SIP device's node publishes about itself.
func (n *Node) deviceExtensions() []overlay.Extension {
	if n.cfg.guest != nil && n.cfg.guest.sip {
		return []overlay.Extension{{Type: recordExtDevice, Value: []byte{deviceKindSIP}}}
	}
	return nil
}

// isSIPDevice says whether rec's author says it is a SIP phone.
func isSIPDevice(rec *overlay.Record) bool {
	v := extValue(rec, recordExtDevice)
	return len(v) == 1 && v[0] == deviceKindSIP
}
