package node

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"parley/identity"
)

// SIP devices (issue 19): the second kind of hosted client beside browser
// guests (guests.go). A phone registered with this node's registrar (sip/)
// becomes a child Node in this process, exactly like a guest: its own
// identity, store under HOST_DATA/guests/<id>, chat and calls; its record
// names this node (RecordExtVia) and this node's record lists it
// (RecordExtGuests), so every roster shows it via this node. Its record also
// says it is a SIP device (RecordExtDevice, devicesrecord.go).
//
// Key: a phone has no Ed25519 key and nowhere to keep a seed, so its key is
// derived from this host's private key and the account name (deviceIdentity):
// stable across host restarts, different per account and per host. The host
// holds the device's key — as it holds a guest's while the guest is attached
// — and sees its plaintext anyway: the device trusts its host completely.

// deviceKeySalt separates device keys from every other use of the host's key.
const deviceKeySalt = "parley sip device key v1"

// ErrDeviceGone is returned by HostDevice while the host is stopping.
var ErrDeviceGone = errors.New("sip: the host is stopping")

// DeviceJoin is a registration the registrar accepted.
type DeviceJoin struct {
	User    string    // the account (SetSIPAccount)
	Name    string    // display name (the REGISTER's From display name), else User
	Contact string    // where the device takes requests (its Contact URI)
	Expires time.Time // the registration's end: the device goes offline then
}

// Device is a registered phone's hosted node.
type Device struct {
	h      *hostedGuest
	host   *Node
	user   string
	events *eventStream
	done   chan struct{}

	mu      sync.Mutex
	contact string
	expires time.Time
	timer   *time.Timer
}

// deviceHost is a node's registered devices by account; its zero value is
// ready. mu also orders the account settings (devicesaccounts.go).
type deviceHost struct {
	mu     sync.Mutex
	hosted map[string]*Device
	closed bool
	dialer SIPDialer // the SIP skin's, for direct calls (devicesdirect.go)
}

// Node is the device's own node.
func (d *Device) Node() *Node { return d.h.node }

// ID is the device's peer ID.
func (d *Device) ID() string { return d.h.id.String() }

// User is the device's account.
func (d *Device) User() string { return d.user }

// Contact is where the device takes requests, from its latest REGISTER.
func (d *Device) Contact() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.contact
}

// Events is the device node's events for the registrar (bounded like
// Node.Events).
func (d *Device) Events() <-chan Event { return d.events.ch }

// Done is closed once the device's node stopped (unregistered, expired,
// account deleted, host stopping).
func (d *Device) Done() <-chan struct{} { return d.done }

// Detach unregisters the device now: its node says goodbye and stops.
func (d *Device) Detach() { d.host.dropDevice(d.user) }

// deviceIdentity derives the key of account user's device: HKDF-SHA256 over
// this node's private key seed, salted by deviceKeySalt, with the account
// name as info.
func (n *Node) deviceIdentity(user string) (*identity.Identity, error) {
	seed, err := hkdf.Key(sha256.New, n.id.Private.Seed(), []byte(deviceKeySalt), "sip:"+user, 32)
	if err != nil {
		return nil, err
	}
	return identity.FromSeed(seed)
}

// HostDevice starts (or, registered already, refreshes) the node of a
// registered account and returns it. Expires schedules its goodbye; each
// refresh moves it.
func (n *Node) HostDevice(ctx context.Context, j DeviceJoin) (*Device, error) {
	if n.cfg.guest != nil {
		return nil, ErrGuestsOff
	}
	if _, ok := n.SIPAccountHA1(j.User); !ok {
		return nil, ErrSIPAccount
	}
	return n.hostDevice(ctx, j)
}

// hostDevice starts or refreshes the node of j.User: an account's, or a
// direct caller's ("direct:…", devicesdirect.go).
func (n *Node) hostDevice(ctx context.Context, j DeviceJoin) (*Device, error) {
	name := boundText(j.Name, maxGuestName)
	if name == "" {
		name = j.User
	}
	dh := &n.devices
	dh.mu.Lock()
	if dh.closed {
		dh.mu.Unlock()
		return nil, ErrDeviceGone
	}
	if d := dh.hosted[j.User]; d != nil {
		dh.mu.Unlock()
		d.refresh(j)
		return d, nil
	}
	dh.mu.Unlock()
	gid, err := n.deviceIdentity(j.User)
	if err != nil {
		return nil, err
	}
	g := &n.guests
	for {
		g.mu.Lock()
		ch := g.stopping[gid.ID]
		if ch == nil {
			break
		}
		g.mu.Unlock()
		select { // its node is saying goodbye; the store is free once it stopped
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if g.closed {
		g.mu.Unlock()
		return nil, ErrDeviceGone
	}
	if g.hosted[gid.ID] != nil {
		g.mu.Unlock()
		return nil, fmt.Errorf("sip: %s is starting", j.User) // a racing REGISTER; the next one finds it
	}
	if len(g.hosted)+len(g.pending) >= n.maxGuests() {
		g.mu.Unlock()
		n.stats.Add("sip_device_refused_full", 1)
		return nil, ErrGuestsFull
	}
	h := &hostedGuest{id: gid.ID, name: name, from: j.Contact, ready: make(chan struct{}), attached: 1, device: true}
	if g.hosted == nil {
		g.hosted = map[identity.PeerID]*hostedGuest{}
	}
	g.hosted[gid.ID] = h
	g.mu.Unlock()
	child, err := n.launchHosted(h, gid, true)
	if err != nil {
		return nil, err
	}
	d := &Device{h: h, host: n, user: j.User, events: newEventStream(), done: make(chan struct{})}
	child.subsMu.Lock()
	child.streams = append(child.streams, d.events)
	child.subsMu.Unlock()
	dh.mu.Lock()
	if dh.hosted == nil {
		dh.hosted = map[string]*Device{}
	}
	dh.hosted[j.User] = d
	dh.mu.Unlock()
	d.refresh(j)
	n.stats.Add("sip_device_up", 1)
	n.log.Info("sip device registered", "user", j.User, "id", gid.ID.Short())
	return d, nil
}

// refresh records a (re-)registration and moves the expiry.
func (d *Device) refresh(j DeviceJoin) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.contact, d.expires = j.Contact, j.Expires
	if d.timer != nil {
		d.timer.Stop()
	}
	if !j.Expires.IsZero() {
		wait := j.Expires.Sub(d.host.cfg.Now())
		d.timer = time.AfterFunc(max(wait, 0), func() {
			d.host.stats.Add("sip_device_expired", 1)
			d.host.dropDevice(d.user)
		})
	}
}

// dropDevice stops account user's device node, if it runs.
func (n *Node) dropDevice(user string) {
	dh := &n.devices
	dh.mu.Lock()
	d := dh.hosted[user]
	delete(dh.hosted, user)
	dh.mu.Unlock()
	if d != nil {
		n.stopDevice(d)
	}
}

func (n *Node) stopDevice(d *Device) {
	d.mu.Lock()
	if d.timer != nil {
		d.timer.Stop()
	}
	d.mu.Unlock()
	g := &n.guests
	g.mu.Lock()
	var ch chan struct{}
	if g.hosted[d.h.id] == d.h {
		ch = n.unhostLocked(d.h)
	}
	g.mu.Unlock()
	if ch != nil {
		n.stopHosted(d.h, ch) // the host stops vouching; the device's node says goodbye
	}
	d.h.node.unsubscribe(d.events)
	close(d.done)
	n.stats.Add("sip_device_down", 1)
	n.log.Info("sip device gone", "user", d.user)
}

// stopDevices stops every device's node (the host is stopping).
func (n *Node) stopDevices() {
	dh := &n.devices
	dh.mu.Lock()
	dh.closed = true
	all := dh.hosted
	dh.hosted = nil
	dh.mu.Unlock()
	var wg sync.WaitGroup
	for _, d := range all {
		wg.Go(func() { n.stopDevice(d) })
	}
	wg.Wait()
}

// CountSIP adds one to the counter "sip_"+name (Stats): the SIP skin counts
// what it refuses and drops there.
func (n *Node) CountSIP(name string) { n.stats.Add("sip_"+name, 1) }

// ConfirmDelivery says a SIP phone took a 1:1 message (its MESSAGE got a
// 2xx): only then does the sender see it delivered (a phone's node defers
// its acknowledgements, chat.Config.DeferDirectAcks).
func (n *Node) ConfirmDelivery(from, id string) error {
	pid, err := identity.ParsePeerID(from)
	if err != nil {
		return err
	}
	n.chat.Ack(pid, id)
	return nil
}

// DeclineBusy refuses a ringing call as busy (the phone answered 486 Busy
// Here): the caller sees "busy", not "declined".
func (n *Node) DeclineBusy(id string) error {
	c, err := n.callID(id)
	if err != nil {
		return err
	}
	return n.calls.Busy(c)
}
