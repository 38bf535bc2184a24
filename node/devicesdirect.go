package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"parley/identity"
)

// Direct SIP calls (issue 19 item 6): a phone that never registered is
// reached, or reaches this node, by its address alone. It becomes a device
// node like a registered phone's (devices.go): a peer with its own ID, via
// this node, one participant of the call. Its key is derived like an
// account's from the name "direct:<user>@<ip>", so the same phone has the
// same peer ID on every call (the port is left out: a phone's listening port
// and the port it calls from differ). The node lives for its calls only: the
// SIP skin detaches it when its last call ended.
//
// Calls from unregistered phones are refused unless the setting
// sip_unregistered is on (SetSIPUnregistered; off by default): anyone on the
// LAN could then ring this node's peers without a password.

// settingSIPUnregistered is the settings key of the switch ("1" on).
const settingSIPUnregistered = "sip_unregistered"

// directPrefix marks a direct device's account name; ':' is never in an
// account name (validSIPUser), so the two never meet.
const directPrefix = "direct:"

// maxDirectKey bounds "user@ip": a 32-byte user and an IPv6 address with a zone.
const maxDirectKey = 100

// directOnlineWait bounds how long CallSIP waits for the phone's new node to
// be reachable through the overlay (it links to this node over loopback in
// milliseconds; TestCallSIPDirect re-measures).
const directOnlineWait = 5 * time.Second

var (
	// ErrSIPOff: the node runs no SIP user agent (no --sip).
	ErrSIPOff = errors.New("sip: this node runs no SIP user agent (--sip)")
	// ErrSIPDirectKey refuses a malformed direct device name.
	ErrSIPDirectKey = errors.New("sip: bad direct device name")
)

// SIPDialer is the SIP skin's half of a direct call: it checks uri (a SIP
// URI on this node's LAN) and hosts the phone's node (HostDirectDevice).
type SIPDialer func(ctx context.Context, uri string) (*Device, error)

// SetSIPDialer is called by the SIP skin once it serves; CallSIP uses it.
func (n *Node) SetSIPDialer(d SIPDialer) {
	n.devices.mu.Lock()
	n.devices.dialer = d
	n.devices.mu.Unlock()
}

// CallSIP calls a phone by its SIP URI without registration, e.g.
// "sip:user@10.0.0.5" (only addresses on this node's LAN; the SIP skin
// checks). It returns the call's ID; the phone is a participant whose peer ID
// is its device node's.
func (n *Node) CallSIP(uri string) (string, error) {
	n.devices.mu.Lock()
	dial := n.devices.dialer
	n.devices.mu.Unlock()
	if dial == nil {
		return "", ErrSIPOff
	}
	ctx, cancel := context.WithTimeout(context.Background(), directOnlineWait)
	defer cancel()
	d, err := dial(ctx, uri)
	if err != nil {
		n.stats.Add("sip_direct_refused", 1)
		return "", err
	}
	id, err := n.callWhenOnline(ctx, d.h.id)
	if err != nil {
		d.Detach()
		return "", err
	}
	n.stats.Add("sip_direct_calls", 1)
	return id, nil
}

// CallWhenOnline calls peer from the device's node once that node sees the
// peer online, waiting at most until ctx ends: a direct caller's node has
// just started and learns the overlay's records in its first moments.
func (d *Device) CallWhenOnline(ctx context.Context, peer string) (string, error) {
	id, err := identity.ParsePeerID(peer)
	if err != nil {
		return "", fmt.Errorf("call: %w", err)
	}
	return d.h.node.callWhenOnline(ctx, id)
}

func (n *Node) callWhenOnline(ctx context.Context, id identity.PeerID) (string, error) {
	for !n.ov.Online(id) {
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("call %s: peer is not online", id.Short())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return n.Call(id.String())
}

// HostDirectDevice hosts (or finds) the node of a phone known by its address
// only: key is "user@ip" (the user may be empty), name its display name.
// Detach ends it.
func (n *Node) HostDirectDevice(ctx context.Context, key, name, contact string) (*Device, error) {
	if n.cfg.guest != nil {
		return nil, ErrGuestsOff
	}
	if !validDirectKey(key) {
		return nil, ErrSIPDirectKey
	}
	if name == "" {
		name = key
	}
	return n.hostDevice(ctx, DeviceJoin{User: directPrefix + key, Name: name, Contact: contact})
}

// validDirectKey: 1 to maxDirectKey printable ASCII bytes, no spaces (a SIP
// user and an address; the skin built it from a parsed URI).
func validDirectKey(k string) bool {
	if k == "" || len(k) > maxDirectKey {
		return false
	}
	for i := range len(k) {
		if k[i] <= ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}

// SetSIPUnregistered switches whether phones that did not register may call
// this node's peers (off by default).
func (n *Node) SetSIPUnregistered(on bool) error {
	v := ""
	if on {
		v = "1"
	}
	return n.db.SetSetting(settingSIPUnregistered, v)
}

// SIPUnregistered says whether unregistered phones may call.
func (n *Node) SIPUnregistered() bool {
	v, ok, err := n.db.Setting(settingSIPUnregistered)
	return err == nil && ok && v == "1"
}
