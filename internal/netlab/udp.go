package netlab

import (
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// SendUDP sends one UDP datagram from inside the host's namespace to dst, an
// IP literal with port: "10.77.1.12:7000", "10.77.1.255:7000" (broadcast),
// "239.255.77.1:40000", "[ff02::fb]:5353" or "[fe80::1%eth0]:7000".
// Multicast leaves through the host's first interface (or the IPv6 zone) with
// TTL/hop limit 1, like link-local discovery traffic. Tests use it to inject
// hand-made (e.g. malformed or forged) packets.
func (h *Host) SendUDP(dst string, payload []byte) error {
	ap, err := netip.ParseAddrPort(dst)
	if err != nil {
		return fmt.Errorf("netlab: %s: send udp: %w", h.Name, err)
	}
	ifname := h.firstIface()
	err = h.Do(func() error {
		// Interface lookups must happen here: indexes are per namespace.
		if z := ap.Addr().Zone(); z != "" {
			ifname = z
		}
		ifindex := 0
		if ifname != "" {
			ifi, err := net.InterfaceByName(ifname)
			if err != nil {
				return err
			}
			ifindex = ifi.Index
		}
		addr := ap.Addr().Unmap()
		if addr.Is4() {
			return sendUDP4(addr, ap.Port(), ifindex, payload)
		}
		return sendUDP6(addr, ap.Port(), ifindex, payload)
	})
	if err != nil {
		return fmt.Errorf("netlab: send udp to %s: %w", dst, err)
	}
	return nil
}

func sendUDP4(addr netip.Addr, port uint16, ifindex int, payload []byte) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	// Allowed always so subnet broadcasts work like any other destination.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1); err != nil {
		return fmt.Errorf("SO_BROADCAST: %w", err)
	}
	if addr.IsMulticast() {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, 1); err != nil {
			return fmt.Errorf("IP_MULTICAST_TTL: %w", err)
		}
		if ifindex != 0 {
			mreq := &unix.IPMreqn{Ifindex: int32(ifindex)}
			if err := unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq); err != nil {
				return fmt.Errorf("IP_MULTICAST_IF: %w", err)
			}
		}
	}
	sa := &unix.SockaddrInet4{Port: int(port), Addr: addr.As4()}
	if err := unix.Sendto(fd, payload, 0, sa); err != nil {
		return fmt.Errorf("sendto: %w", err)
	}
	return nil
}

func sendUDP6(addr netip.Addr, port uint16, ifindex int, payload []byte) error {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	sa := &unix.SockaddrInet6{Port: int(port), Addr: addr.As16()}
	if addr.IsMulticast() {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 1); err != nil {
			return fmt.Errorf("IPV6_MULTICAST_HOPS: %w", err)
		}
		if ifindex != 0 {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifindex); err != nil {
				return fmt.Errorf("IPV6_MULTICAST_IF: %w", err)
			}
		}
	}
	// Link-local destinations are ambiguous without a scope.
	if addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() {
		sa.ZoneId = uint32(ifindex)
	}
	if err := unix.Sendto(fd, payload, 0, sa); err != nil {
		return fmt.Errorf("sendto: %w", err)
	}
	return nil
}
