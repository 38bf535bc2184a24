package sip

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"parley/node"
)

// device is a registered phone: its hosted node's events become requests to
// the phone (MESSAGE, INVITE).
type device struct {
	s    *Server
	user string
	dev  *node.Device

	// direct: a phone that did not register (direct.go); its node lives
	// for its calls only.
	direct bool

	mu        sync.Mutex
	contact   sip.Uri
	transport string
	calls     int  // calls under way (callBegins, callEnds)
	used      bool // a call ever began

	// sending bounds the MESSAGEs to the phone in flight: a peer sending a
	// burst waits in its own outbox (unacknowledged, it retries) rather
	// than in goroutines here.
	sending chan struct{}
}

// maxSending is how many MESSAGEs one phone may have in flight; a phone
// answers each in milliseconds.
const maxSending = 4

// trackDevice starts following a device's node once, and keeps its contact
// current. user is the account, or "direct:"+key for a direct phone.
func (s *Server) trackDevice(user string, dev *node.Device, contact sip.Uri, transport string, direct bool) *device {
	s.mu.Lock()
	d := s.devices[user]
	fresh := d == nil || d.dev != dev
	if fresh {
		d = &device{s: s, user: user, dev: dev, direct: direct, sending: make(chan struct{}, maxSending)}
		s.devices[user] = d
	}
	s.mu.Unlock()
	d.mu.Lock()
	d.contact, d.transport = contact, strings.ToLower(transport)
	d.mu.Unlock()
	if fresh {
		s.wg.Go(d.run)
	}
	return d
}

// device is account user's registered phone, or nil.
func (s *Server) device(user string) *device {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.devices[user]
}

func (d *device) run() {
	for {
		select {
		case ev := <-d.dev.Events():
			d.handle(ev)
		case <-d.dev.Done():
			d.s.mu.Lock()
			if d.s.devices[d.user] == d {
				delete(d.s.devices, d.user)
			}
			d.s.mu.Unlock()
			return
		case <-d.s.ctx.Done():
			return
		}
	}
}

func (d *device) handle(ev node.Event) {
	switch e := ev.(type) {
	case node.MessageReceived:
		select {
		case d.sending <- struct{}{}:
			d.s.wg.Go(func() {
				defer func() { <-d.sending }()
				d.sendMessage(e)
			})
		default:
			// Unacknowledged: the sender's outbox offers it again later.
			d.s.n.CountSIP("message_out_deferred")
		}
	case node.CallIncoming:
		d.callBegins()
		d.s.wg.Go(func() {
			defer d.callEnds()
			d.ringPhone(e)
		})
	case node.CallState:
		d.s.callState(e)
	}
}

// target is the phone's contact, its IP and the transport it registered over.
func (d *device) target() (sip.Uri, netip.Addr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	uri := *d.contact.Clone()
	if d.transport == "tcp" && !uri.UriParams.Has("transport") {
		uri.UriParams.Add("transport", "tcp")
	}
	ip, _ := netip.ParseAddr(strings.Trim(uri.Host, "[]"))
	return uri, ip
}

// phoneURI is the phone's address as the To of a request to it: its account
// at this node, or a direct phone's own URI.
func (d *device) phoneURI(ip netip.Addr) sip.Uri {
	if d.direct {
		d.mu.Lock()
		defer d.mu.Unlock()
		return sip.Uri{Scheme: "sip", User: d.contact.User, Host: d.contact.Host, Port: d.contact.Port}
	}
	return d.s.ourURI(d.user, ip)
}

// ourURI is this node's address as the phone reaches it, with user.
func (s *Server) ourURI(user string, phone netip.Addr) sip.Uri {
	return sip.Uri{Scheme: "sip", User: user, Host: localToward(phone).String(), Port: s.port}
}

// peerName is a peer's display name as the device's node knows it.
func peerName(n *node.Node, id string) string {
	peers, _ := n.Roster()
	for _, p := range peers {
		if p.ID == id {
			return p.Name
		}
	}
	return ""
}

// requestTimeout bounds one non-INVITE request to a phone (Timer F is 32 s;
// a phone on the LAN answers in milliseconds or is gone).
const requestTimeout = 10 * time.Second

func (s *Server) requestCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, requestTimeout)
}
