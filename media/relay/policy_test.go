package relay

import (
	"net"
	"net/netip"
	"testing"
)

// A peer that holds a genuine credential asks for permissions towards the
// relay host's loopback (a DNS stub at 127.0.0.53, the host's own services)
// and towards private networks the relay is not attached to (a VPN, another
// site): every one is refused and counted, so nothing can be sent there.
// Before the on-link policy, LANPeer admitted loopback and all of RFC 1918,
// and every permission here was granted.
func TestPeerPolicyRefuses(t *testing.T) {
	leakCheck(t)
	s := startServerPolicy(t, Config{}) // the real policy, listener on 127.0.0.1
	a := mustDial(t, s, s.Issue("call", "alice"))
	for _, ip := range []string{"127.0.0.53", "127.0.0.1", "10.9.9.9", "172.16.5.5", "192.168.77.1", "100.64.1.1", "169.254.1.1"} {
		before := stat(s, "refused_peer")
		if err := a.client.CreatePermission(&net.UDPAddr{IP: net.ParseIP(ip), Port: 53}); err == nil {
			t.Errorf("permission granted for %s", ip)
			continue
		}
		if stat(s, "refused_peer") != before+1 {
			t.Errorf("%s: refused_peer %d, want %d", ip, stat(s, "refused_peer"), before+1)
		}
	}
	if st := s.Stats(); st["packets_relayed"] != 0 {
		t.Fatalf("relayed %v", st)
	}
}

// onLink admits the subnets configured on the interfaces of the relay's
// listeners and nothing else: not loopback, not other private networks, not a
// subnet's broadcast address.
func TestOnLinkPolicy(t *testing.T) {
	saved := onLinkPrefixes
	t.Cleanup(func() { onLinkPrefixes = saved })
	tables := map[netip.Addr][]netip.Prefix{
		// Two segments the relay serves; the first interface has a second subnet.
		mustAddr("192.168.1.10"): {netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("192.168.50.0/28")},
		mustAddr("10.20.0.5"):    {netip.MustParsePrefix("10.20.0.0/16")},
	}
	onLinkPrefixes = func(a netip.Addr) []netip.Prefix { return tables[a] }
	s := &Server{listeners: map[netip.Addr]*listener{}}
	for a := range tables {
		s.listeners[a] = &listener{addr: a, subnets: onLinkPrefixes(a)}
	}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"192.168.1.20", true},
		{"192.168.1.10", true}, // the relay's own address: its relayed sockets
		{"192.168.50.3", true},
		{"10.20.200.1", true},
		{"::ffff:10.20.0.7", true},
		{"192.168.1.255", false}, // directed broadcast
		{"192.168.1.0", false},   // network address
		{"192.168.2.1", false},
		{"192.168.50.17", false},
		{"10.21.0.1", false},
		{"172.16.0.1", false},
		{"100.64.0.1", false},
		{"127.0.0.1", false},
		{"127.0.0.53", false},
		{"169.254.1.1", false},
		{"8.8.8.8", false},
		{"fd00::1", false},
		{"0.0.0.0", false},
		{"255.255.255.255", false},
		{"224.0.0.251", false},
	} {
		if got := s.allowPeer(mustAddr(tc.addr)); got != tc.ok {
			t.Errorf("%s admitted = %v, want %v", tc.addr, got, tc.ok)
		}
	}
}
