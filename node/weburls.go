package node

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
)

// WebURLs are the addresses a browser on the LAN opens to join as a guest,
// https://ADDR:PORT/ for each link address this node advertises (IPv4 first),
// so the desktop's "Invite a guest" can show them. Empty when the guest web
// server is off (Config.WebPort 0).
func (n *Node) WebURLs() []string {
	var addrs []netip.Addr
	for _, ap := range n.ov.AdvertisedAddrs() {
		addrs = append(addrs, ap.Addr())
	}
	return webURLs(addrs, n.cfg.WebPort)
}

// WebPortOf is the port of a --web value ("host:port" or ":port"); 0 for "off"
// or anything without a valid port, which leaves WebURLs empty.
func WebPortOf(addr string) int {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return 0
	}
	return p
}

// webURLs makes the guest URLs for addrs. IPv6 link-local addresses are left
// out: they need a zone (fe80::1%eth0), which browsers do not take in a URL.
// Loopback and unspecified addresses reach no other device.
func webURLs(addrs []netip.Addr, port int) []string {
	if port <= 0 || port > 65535 {
		return nil
	}
	addrs = slices.Clone(addrs)
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	// IPv4 first: it is what people can read out and type.
	slices.SortStableFunc(addrs, func(a, b netip.Addr) int {
		switch {
		case a.Is4() && !b.Is4():
			return -1
		case !a.Is4() && b.Is4():
			return 1
		}
		return 0
	})
	var out []string
	seen := map[netip.Addr]bool{}
	for _, a := range addrs {
		if !a.IsValid() || a.IsLoopback() || a.IsUnspecified() || a.IsLinkLocalUnicast() || seen[a] {
			continue
		}
		seen[a] = true
		host := a.String()
		if a.Is6() {
			host = "[" + host + "]"
		}
		out = append(out, "https://"+host+":"+strconv.Itoa(port)+"/")
	}
	return out
}
