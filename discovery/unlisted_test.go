package discovery

import (
	"net"
	"net/netip"
	"testing"
)

// TestUnlistedDefaultInterface: with only the stand-in for an unlisted default
// interface (Wine), private sources are on-link whatever interface index a
// datagram reports, public ones never are, and joins/sends get a nil interface.
func TestUnlistedDefaultInterface(t *testing.T) {
	nets := InterfacePrefixes([]net.Interface{defaultIface})
	for _, tc := range []struct {
		src   string
		index int
		want  bool
	}{
		{"10.77.1.12", 0, true},
		{"10.77.1.12", 7, true},
		{"192.168.1.20", 0, true},
		{"fe80::1", 3, true},
		{"8.8.8.8", 0, false},
		{"8.8.8.8", 7, false},
		{"2001:db8::1", 0, false},
	} {
		if got := OnLink(nets, tc.index, netip.MustParseAddr(tc.src)); got != tc.want {
			t.Errorf("OnLink(%s, if %d) = %v, want %v", tc.src, tc.index, got, tc.want)
		}
	}
	if ifacePtr(defaultIface) != nil || zoneOf(defaultIface) != "" {
		t.Error("the stand-in must leave the interface to the system")
	}
	real := net.Interface{Index: 2, Name: "eth0"}
	if p := ifacePtr(real); p == nil || p.Index != 2 || zoneOf(real) != "eth0" {
		t.Error("a listed interface must be passed on")
	}
	// A listed interface set without the stand-in keeps the strict rule.
	strict := map[int][]netip.Prefix{2: {netip.MustParsePrefix("10.77.1.0/24")}}
	if OnLink(strict, 7, netip.MustParseAddr("10.77.1.12")) {
		t.Error("an unknown interface index must not be on-link when interfaces are listed")
	}
}
