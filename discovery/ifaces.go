package discovery

import (
	"net"
	"net/netip"
	"slices"
)

// Interfaces lists the up, multicast-capable, non-loopback interfaces that pass keep
// (nil keeps all). These are the interfaces beacons and mDNS run on. A system that
// lists none (Wine) gets the stand-in for its default interface (unlisted.go).
func Interfaces(keep func(net.Interface) bool) []net.Interface {
	all, err := net.Interfaces()
	if err != nil || len(all) == 0 {
		if keep != nil && !keep(defaultIface) {
			return nil
		}
		return []net.Interface{defaultIface}
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
		if isDefaultIface(ifc) {
			for _, a := range defaultRouteAddrs() {
				if a.Is4() {
					v4 = append(v4, a)
				} else {
					v6 = append(v6, a)
				}
			}
			continue
		}
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

// InterfacePrefixes returns the on-link subnets of the given interfaces by
// interface index: the networks their addresses are configured with.
func InterfacePrefixes(ifcs []net.Interface) map[int][]netip.Prefix {
	out := make(map[int][]netip.Prefix, len(ifcs))
	for _, ifc := range ifcs {
		out[ifc.Index] = nil // in use, even with no address yet (IPv6 link-local still works)
		if isDefaultIface(ifc) {
			out[ifc.Index] = unlistedPrefixes
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if pfx, err := netip.ParsePrefix(a.String()); err == nil {
				out[ifc.Index] = append(out[ifc.Index], pfx.Masked())
			}
		}
	}
	return out
}

// OnLink reports whether src is a neighbour on an interface in use: inside an
// on-link subnet of the interface it arrived on (ifIndex; 0 when unknown: of
// any interface in use), or an IPv6 link-local address, which is on-link by
// definition. Beacons and links are for the LAN; a source elsewhere (the
// Internet reaching a global IPv6 address, a VPN, an interface not chosen) is
// refused before anything it sent is read.
func OnLink(nets map[int][]netip.Prefix, ifIndex int, src netip.Addr) bool {
	src = src.Unmap().WithZone("")
	match := func(ps []netip.Prefix) bool {
		if src.Is6() && src.IsLinkLocalUnicast() {
			return true
		}
		for _, p := range ps {
			if p.Contains(src) {
				return true
			}
		}
		return false
	}
	if ifIndex != 0 {
		if ps, ok := nets[ifIndex]; ok {
			return match(ps)
		}
		// The stand-in for an unlisted default interface has no index to match.
		if _, ok := nets[defaultIface.Index]; !ok {
			return false
		}
	}
	for _, ps := range nets {
		if match(ps) {
			return true
		}
	}
	return false
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
