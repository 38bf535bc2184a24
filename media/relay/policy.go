package relay

import "net/netip"

// cgnat is RFC 6598 shared address space: carrier NAT, but also what mesh VPNs
// (Tailscale, ZeroTier set-ups) hand out on networks that are private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// LANPeer is the default peer policy: relay only to loopback, RFC 1918 / ULA
// private, link-local unicast and RFC 6598 addresses. A Parley relay joins two
// peers of the same local network that cannot reach each other directly; it has no
// business forwarding a caller's datagrams to the Internet, where it would be an
// authenticated but still open proxy in someone else's name.
func LANPeer(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || cgnat.Contains(a)
}

// neverPeer reports addresses no policy may allow: relaying to a group or to
// "everyone" would turn one allocation into a fan-out amplifier, and the
// unspecified address is no destination at all.
func neverPeer(a netip.Addr) bool {
	a = a.Unmap()
	return !a.IsValid() || a.IsUnspecified() || a.IsMulticast() ||
		a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}
