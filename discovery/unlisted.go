package discovery

import (
	"net"
	"net/netip"
)

// When the system will not list its interfaces, discovery still runs, on the one
// interface the system itself picks for multicast. Wine is such a system: in a
// network namespace (and here outside one) its GetAdaptersAddresses fails, so Go's
// net.Interfaces returns an error and an empty list, while joining a group on the
// default interface and sending to it work (itest/windows_test.go states this).
// Linux always lists at least its loopback, so there this path is never taken.

// defaultIfaceName names the stand-in interface in logs and mDNS instance names.
const defaultIfaceName = "default"

// defaultIface stands for "the interface the system picks": index 0, so joins and
// sends pass a nil interface (ifacePtr) and the system chooses.
var defaultIface = net.Interface{Index: 0, Name: defaultIfaceName, Flags: net.FlagUp | net.FlagMulticast}

// isDefaultIface reports whether ifc is the stand-in.
func isDefaultIface(ifc net.Interface) bool { return ifc.Index == 0 && ifc.Name == defaultIfaceName }

// ifacePtr is the interface argument for joins, sends and mDNS: nil (the system's
// choice) for the stand-in.
func ifacePtr(ifc net.Interface) *net.Interface {
	if isDefaultIface(ifc) {
		return nil
	}
	return &ifc
}

// defaultRouteAddrs are the addresses the system sends beacons from: a UDP
// socket "connected" to each beacon group is given the source address of the
// route multicast takes (nothing is sent).
func defaultRouteAddrs() []netip.Addr {
	var out []netip.Addr
	for _, g := range []string{"udp4", "udp6"} {
		group := BeaconGroup4
		if g == "udp6" {
			group = BeaconGroup6
		}
		c, err := net.DialUDP(g, nil, &net.UDPAddr{IP: group.AsSlice(), Port: BeaconPort})
		if err != nil {
			continue
		}
		if la, ok := c.LocalAddr().(*net.UDPAddr); ok {
			if a, ok := netip.AddrFromSlice(la.IP); ok && !a.Unmap().IsUnspecified() {
				out = append(out, a.Unmap())
			}
		}
		c.Close()
	}
	return out
}

// unlistedPrefixes are the sources taken as on-link when the subnets cannot be
// read: the private and link-local ranges (RFC 1918, RFC 6598's shared range is
// left out, RFC 4193 ULA, link-local). The check exists to refuse the Internet
// reaching a global address; without subnets, "a private address" is the
// closest test the node can make, and it is logged when used.
var unlistedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
}

// setMulticastIface points sends at ifc; for the stand-in it leaves the system's
// choice in place.
func setMulticastIface(set func(*net.Interface) error, ifc net.Interface) error {
	if isDefaultIface(ifc) {
		return nil
	}
	return set(&ifc)
}

// zoneOf is the IPv6 zone for sends on ifc ("" for the stand-in: the system's
// choice).
func zoneOf(ifc net.Interface) string {
	if isDefaultIface(ifc) {
		return ""
	}
	return ifc.Name
}
