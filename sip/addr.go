package sip

import (
	"net"
	"net/netip"

	"github.com/emiago/sipgo/sip"
)

// localToward is the source address the kernel picks for packets to a: the
// address a phone there reaches this node at (a connected UDP socket sends
// nothing).
func localToward(a netip.Addr) netip.Addr {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a.Unmap(), 9)))
	if err != nil {
		return netip.IPv4Unspecified()
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
}

// splitHost is a URI's host as an address (invalid when it is a name).
func splitHost(u sip.Uri) (string, netip.Addr) {
	ip, _ := netip.ParseAddr(u.Host)
	return u.Host, ip
}
