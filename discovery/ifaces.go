package discovery

import (
	"net"
	"net/netip"
	"slices"
)

// Interfaces lists the up, multicast-capable, non-loopback interfaces that pass keep
// (nil keeps all). These are the interfaces beacons and mDNS run on.
func Interfaces(keep func(net.Interface) bool) []net.Interface {
	all, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []net.Interface
	for _, ifc := range all {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagMulticast == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		if keep != nil && !keep(ifc) {
			continue
		}
		out = append(out, ifc)
	}
	return out
}

// InterfaceAddrs returns the unicast IPs of the given interfaces (IPv4 first), zoned
// for IPv6 link-local so they can be dialled.
func InterfaceAddrs(ifcs []net.Interface) []netip.Addr {
	var v4, v6 []netip.Addr
	for _, ifc := range ifcs {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			ip := pfx.Addr()
			switch {
			case ip.Is4():
				v4 = append(v4, ip)
			case ip.IsLinkLocalUnicast():
				v6 = append(v6, ip.WithZone(ifc.Name))
			case ip.Is6():
				v6 = append(v6, ip)
			}
		}
	}
	return append(v4, v6...)
}

// ifaceKey summarises an interface set so a change can be noticed cheaply.
func ifaceKey(ifcs []net.Interface) string {
	names := make([]string, 0, len(ifcs))
	for _, ifc := range ifcs {
		names = append(names, ifc.Name)
	}
	slices.Sort(names)
	key := ""
	for _, n := range names {
		key += n + ","
	}
	for _, a := range InterfaceAddrs(ifcs) {
		key += a.String() + ","
	}
	return key
}
