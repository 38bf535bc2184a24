package relay

import (
	"net"
	"net/netip"
)

// The peer policy. A Parley relay joins two peers of networks it is attached to
// that cannot reach each other directly; anything beyond that is a favour to an
// attacker. Relaying to loopback would hand a remote peer the host's local
// services (a DNS stub at 127.0.0.53, a database bound to 127.0.0.1), and
// relaying to any private address would reach networks the host is on but the
// peer is not (a VPN, a container bridge, the office network of a laptop on
// hotel Wi-Fi). So an allocation may exchange data only with addresses inside
// an on-link subnet of the listener it was made on (the prefixes configured on
// the interface that holds the listener's address), and with the relayed
// sockets of this relay on its other addresses, so a call whose two ends
// reach the relay on different segments still works; a datagram to one of the
// relay's own addresses that is not such a socket is dropped (WriteTo).

// onLinkPrefixes returns the subnets of the interface that holds a: every
// IPv4 prefix configured on it, masked. A variable so tests can give the relay
// a machine with other interfaces.
var onLinkPrefixes = func(a netip.Addr) []netip.Prefix {
	ifcs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	for _, ifc := range ifcs {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		var out []netip.Prefix
		holds := false
		for _, ad := range addrs {
			ipn, ok := ad.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			ones, bits := ipn.Mask.Size()
			if !ip.Is4() || bits != 32 {
				continue
			}
			if ip == a {
				holds = true
			}
			out = append(out, netip.PrefixFrom(ip, ones).Masked())
		}
		if holds {
			return out
		}
	}
	return nil
}

// onLink reports whether peer is inside one of l's on-link subnets, and is
// neither loopback nor a subnet's network or broadcast address. The subnets
// are read when the listener opens and at every SetAddrs (the node calls it
// before every grant). s.mu must be held.
func (l *listener) onLink(peer netip.Addr) bool {
	peer = peer.Unmap()
	if peer.IsLoopback() || !peer.Is4() {
		return false
	}
	for _, p := range l.subnets {
		if p.Contains(peer) && !edgeOf(p, peer) {
			return true
		}
	}
	return false
}

// edgeOf reports whether a is p's network or broadcast address (prefixes up to
// /30): Go's UDP sockets may broadcast, so a directed broadcast would fan one
// datagram out to the whole segment.
func edgeOf(p netip.Prefix, a netip.Addr) bool {
	if p.Bits() > 30 {
		return false
	}
	b := a.As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	return v&host == 0 || v&host == host
}

// allowPeer is the policy an allocation on listener l is checked against when
// it asks permission for peer: never the addresses neverPeer names; then
// Config.AllowPeer when a test set one; otherwise l's on-link subnets, or one
// of this relay's own listener addresses, where the relayed sockets of the
// call's other party live when it reached us on another segment (a datagram
// to one of our addresses is only ever delivered to such a socket: WriteTo).
func (s *Server) allowPeer(l *listener, peer netip.Addr) bool {
	peer = peer.Unmap()
	if neverPeer(peer) {
		return false
	}
	if s.cfg.AllowPeer != nil {
		return s.cfg.AllowPeer(peer)
	}
	s.mu.RLock() // guards l.subnets (SetAddrs) and s.listeners
	defer s.mu.RUnlock()
	if l.onLink(peer) {
		return true
	}
	_, own := s.listeners[peer]
	return own && !peer.IsLoopback()
}

// neverPeer reports addresses no policy may allow: relaying to a group or to
// "everyone" would turn one allocation into a fan-out amplifier, and the
// unspecified address is no destination at all.
func neverPeer(a netip.Addr) bool {
	a = a.Unmap()
	return !a.IsValid() || a.IsUnspecified() || a.IsMulticast() ||
		a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}
