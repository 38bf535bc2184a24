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

// An allocation on a listener may reach that listener's on-link subnets and
// the relay's own addresses (the relayed sockets of a call's other party on
// another segment), nothing else: not another listener's subnet, not loopback,
// not other private networks, not a subnet's network or broadcast address.
func TestOnLinkPolicy(t *testing.T) {
	a, b := mustAddr("192.168.1.10"), mustAddr("10.20.0.5")
	la := &listener{addr: a, subnets: []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("192.168.50.0/28")}}
	lb := &listener{addr: b, subnets: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}
	s := &Server{listeners: map[netip.Addr]*listener{a: la, b: lb}}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"192.168.1.20", true},
		{"192.168.1.10", true}, // the listener's own address
		{"10.20.0.5", true},    // the other listener's address: its relayed sockets
		{"192.168.50.3", true}, // a second subnet on the same interface
		{"::ffff:192.168.1.7", true},
		{"10.20.200.1", false}, // the other listener's subnet: another segment
		{"192.168.1.255", false},
		{"192.168.1.0", false},
		{"192.168.2.1", false},
		{"192.168.50.17", false},
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
		if got := s.allowPeer(la, mustAddr(tc.addr)); got != tc.ok {
			t.Errorf("%s admitted = %v, want %v", tc.addr, got, tc.ok)
		}
	}
}

// A relayed socket delivers to the relay's own addresses only when the
// destination is another relayed socket: a service of the relay's host on
// its LAN address (the overlay port, anything bound to 0.0.0.0) is not
// reachable through the relay, even where the policy admits the address.
func TestRelayDoesNotReachItsHost(t *testing.T) {
	leakCheck(t)
	s := startServer(t, Config{}) // loopbackPeers: 127.0.0.1 stands for the LAN address
	a := mustDial(t, s, s.Issue("call", "alice"))
	service, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer service.Close()
	if err := a.client.CreatePermission(service.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.relay.WriteTo([]byte("hello, host"), service.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, "the self drop", func() bool { return stat(s, "dropped_self") == 1 })
	if st := s.Stats(); st["packets_relayed"] != 0 {
		t.Fatalf("relayed to the host: %v", st)
	}
}

// onLinkPrefixes reads the subnets of the interface holding an address from
// the machine's interface table (lo holds 127.0.0.1/8 on every Linux box).
func TestOnLinkPrefixesReadsTheInterface(t *testing.T) {
	ps := onLinkPrefixes(loopback)
	found := false
	for _, p := range ps {
		found = found || p.Contains(loopback) && p.Bits() <= 8
	}
	if !found {
		t.Fatalf("onLinkPrefixes(127.0.0.1) = %v, want 127.0.0.0/8 among them", ps)
	}
	if ps := onLinkPrefixes(mustAddr("192.0.2.77")); len(ps) != 0 {
		t.Fatalf("an address on no interface has subnets %v", ps)
	}
}
