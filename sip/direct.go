package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"parley/node"
)

// Direct calls (issue 19 item 6): phones that never registered. A Parley
// user calls one by URI (node.CallSIP → dialDirect), or one calls
// sip:<name>@<this node> while the node allows it (node.SIPUnregistered).
// Either way the phone gets a device node for the call (node.HostDirectDevice)
// and is then served exactly like a registered phone (device.go, calls.go);
// its node is detached once its last call ended.
//
// Where a direct call may go: a literal address, or a name whose every
// address is, that is private (RFC 1918, fc00::/7), link-local or loopback
// *and* on this node's LAN (node.OnLAN). Never a public address, never a
// trunk: nothing leaves the LAN. The name is resolved once and the call goes
// to the address, so a name cannot change its answer between check and use.

var (
	errDirectScheme = errors.New("sip: a direct call needs a sip: URI (sips and tel are not spoken)")
	errDirectOffLAN = errors.New("sip: the address is not a private address on this node's LAN")
	errDirectSelf   = errors.New("sip: that is this node's own SIP address")
)

const (
	// resolveTimeout bounds the name lookup of a direct call's URI.
	resolveTimeout = 2 * time.Second
	// directIdle: a direct phone's node that got no call in this long (the
	// overlay call never reached it) is detached. The caller's ring timeout
	// is 30 s; this is past it.
	directIdle = 45 * time.Second
	// maxDirectUser bounds the user part kept from a URI or a From header;
	// longer ones are cut (the phone still gets the request).
	maxDirectUser = 32
)

// dialDirect is the node's SIPDialer: it checks uri and hosts the phone's node.
func (s *Server) dialDirect(ctx context.Context, raw string) (*node.Device, error) {
	uri, ip, err := s.directTarget(ctx, raw)
	if err != nil {
		s.n.CountSIP("direct_uri_refused")
		return nil, err
	}
	key := directKey(uri.User, ip)
	dev, err := s.n.HostDirectDevice(ctx, key, key, uri.String())
	if err != nil {
		return nil, err
	}
	s.trackDirect(key, dev, uri)
	return dev, nil
}

// directURI is a direct call's URI as parsed, before any check of where
// it points.
type directURI struct {
	user string // cut to maxDirectUser
	host string // an address (no brackets) or a name
	port int    // 5060 when the URI names none
	tcp  bool   // ;transport=tcp
}

// parseDirectURI reads a direct call's URI: sip: only, at most 256 bytes,
// transport udp or tcp.
func parseDirectURI(raw string) (directURI, error) {
	var u sip.Uri
	if len(raw) > 256 {
		return directURI{}, fmt.Errorf("sip: URI longer than 256 bytes")
	}
	if err := sip.ParseUri(strings.TrimSpace(raw), &u); err != nil {
		return directURI{}, fmt.Errorf("sip: %q: %w", raw, err)
	}
	if u.Scheme != "sip" {
		return directURI{}, errDirectScheme
	}
	d := directURI{user: u.User, host: strings.TrimSuffix(strings.TrimPrefix(u.Host, "["), "]"), port: u.Port}
	if t, ok := u.UriParams.Get("transport"); ok {
		switch strings.ToLower(t) {
		case "udp":
		case "tcp":
			d.tcp = true
		default:
			return directURI{}, fmt.Errorf("sip: transport %q (udp or tcp)", t)
		}
	}
	if d.host == "" {
		return directURI{}, fmt.Errorf("sip: %q names no host", raw)
	}
	if d.port == 0 {
		d.port = 5060
	}
	if d.port < 0 || d.port > 65535 {
		return directURI{}, fmt.Errorf("sip: port %d", d.port)
	}
	if len(d.user) > maxDirectUser {
		d.user = d.user[:maxDirectUser]
	}
	return d, nil
}

// directTarget parses raw and checks where it points; the URI it returns
// names the address, not the name.
func (s *Server) directTarget(ctx context.Context, raw string) (sip.Uri, netip.Addr, error) {
	d, err := parseDirectURI(raw)
	if err != nil {
		return sip.Uri{}, netip.Addr{}, err
	}
	ip, err := netip.ParseAddr(d.host)
	if err != nil {
		if ip, err = s.resolveOnLAN(ctx, d.host); err != nil {
			return sip.Uri{}, netip.Addr{}, err
		}
	}
	ip = ip.Unmap()
	if !s.allowedDirect(ip) {
		return sip.Uri{}, netip.Addr{}, errDirectOffLAN
	}
	if d.port == s.port && isLocal(ip) {
		return sip.Uri{}, netip.Addr{}, errDirectSelf // an INVITE to ourselves
	}
	out := sip.Uri{Scheme: "sip", User: d.user, Host: ip.String(), Port: d.port, UriParams: sip.NewParams(), Headers: sip.NewParams()}
	if ip.Is6() {
		out.Host = "[" + ip.String() + "]"
	}
	if d.tcp {
		out.UriParams.Add("transport", "tcp")
	}
	return out, ip, nil
}

// resolveOnLAN looks host up once: every address it has must be allowed.
func (s *Server) resolveOnLAN(ctx context.Context, host string) (netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("sip: %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("sip: %s has no address", host)
	}
	for _, a := range addrs {
		if !s.allowedDirect(a.Unmap()) {
			return netip.Addr{}, fmt.Errorf("%w (%s is %s)", errDirectOffLAN, host, a)
		}
	}
	return addrs[0].Unmap(), nil
}

// allowedDirect: private, link-local or loopback, and on this node's LAN.
func (s *Server) allowedDirect(ip netip.Addr) bool {
	scoped := ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLoopback()
	return scoped && s.n.OnLAN(ip)
}

// isLocal says whether ip is one of this host's addresses.
func isLocal(ip netip.Addr) bool {
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		return false // not an address here
	}
	l.Close()
	return true
}

// directKey names a direct phone: its user at its address (no port, so a
// phone has one node whether it calls or is called).
func directKey(user string, ip netip.Addr) string {
	return user + "@" + ip.String()
}

// trackDirect follows a direct phone's node (device.go) and detaches it if no
// call ever reaches it.
func (s *Server) trackDirect(key string, dev *node.Device, contact sip.Uri) {
	transport := "udp"
	if t, ok := contact.UriParams.Get("transport"); ok {
		transport = t
	}
	d := s.trackDevice("direct:"+key, dev, contact, transport, true)
	time.AfterFunc(directIdle, func() {
		d.mu.Lock()
		idle := d.calls == 0 && !d.used
		d.mu.Unlock()
		if idle {
			s.n.CountSIP("direct_idle_detached")
			dev.Detach()
		}
	})
}

// callBegins and callEnds count a device's calls; a direct phone's node is
// detached after its last one.
func (d *device) callBegins() {
	d.mu.Lock()
	d.calls++
	d.used = true
	d.mu.Unlock()
}

func (d *device) callEnds() {
	d.mu.Lock()
	d.calls--
	last := d.calls == 0
	d.mu.Unlock()
	if d.direct && last {
		d.dev.Detach()
	}
}

// directCaller hosts the node of a phone calling without registration (the
// node allows it: node.SIPUnregistered). Its key is the From user at the
// request's source address; requests for it go to its Contact when that is
// on the LAN at the same address, else to the source.
func (s *Server) directCaller(req *sip.Request, src netip.Addr) (*device, error) {
	user, name := "", ""
	if from := req.From(); from != nil {
		user, name = from.Address.User, from.DisplayName
	}
	if len(user) > maxDirectUser {
		user = user[:maxDirectUser]
	}
	key := directKey(user, src)
	if name == "" {
		name = key
	}
	contact := sip.Uri{Scheme: "sip", User: user, Host: src.String(), Port: 5060, UriParams: sip.NewParams(), Headers: sip.NewParams()}
	if ap, err := netip.ParseAddrPort(req.Source()); err == nil {
		contact.Port = int(ap.Port())
	}
	if ch := req.Contact(); ch != nil {
		if ip, err := netip.ParseAddr(strings.Trim(ch.Address.Host, "[]")); err == nil && ip.Unmap() == src && ch.Address.Scheme == "sip" {
			contact = *ch.Address.Clone()
		}
	}
	if src.Is6() {
		contact.Host = "[" + src.String() + "]"
	}
	ctx, cancel := context.WithTimeout(s.ctx, resolveTimeout)
	defer cancel()
	dev, err := s.n.HostDirectDevice(ctx, key, name, contact.String())
	if err != nil {
		return nil, err
	}
	return s.trackDevice("direct:"+key, dev, contact, req.Transport(), true), nil
}
