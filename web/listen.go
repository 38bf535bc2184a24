package web

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// DefaultPort is the guest page's TCP port (after the link port 48556, the
// beacon 48555 and the relay 48557).
const DefaultPort = "48558"

// Listen opens the page's listeners for a --web value: "host:port" is one
// listener; ":port" (or "") is that port (48558) on each of the node's link
// addresses and on loopback, so the page is on the LAN interfaces in use and
// nowhere else. Addresses that cannot be bound are skipped (another node on
// the machine may hold the port); it fails only when none could be.
func Listen(addr string, linkAddrs []string) ([]net.Listener, error) {
	if addr == "" {
		addr = ":" + DefaultPort
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--web %q: %w", addr, err)
	}
	if host != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		return []net.Listener{ln}, nil
	}
	hosts := []string{"127.0.0.1"}
	seen := map[string]bool{"127.0.0.1": true}
	for _, a := range linkAddrs {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			continue
		}
		ip := ap.Addr().Unmap()
		if ip.Zone() != "" || seen[ip.String()] { // a link-local address needs a zone browsers do not take
			continue
		}
		seen[ip.String()] = true
		hosts = append(hosts, ip.String())
	}
	var lns []net.Listener
	var errs []error
	for _, h := range hosts {
		ln, err := net.Listen("tcp", net.JoinHostPort(h, port))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lns = append(lns, ln)
	}
	if len(lns) == 0 {
		return nil, errors.Join(errs...)
	}
	return lns, errors.Join(errs...)
}
