package node

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// The registrar's switch: off by default, an address kept as given, refused
// when it is not [IP]:port, and "" turns it off again.
func TestSIPListenSetting(t *testing.T) {
	n := startTestNode(t, "host", Config{})
	if got := n.SIPListen(); got != "" {
		t.Fatalf("SIP on by default: %q", got)
	}
	for _, addr := range []string{DefaultSIPAddr, "10.0.0.5:5070", "[fd00::1]:5060"} {
		if err := n.SetSIPListen(addr); err != nil || n.SIPListen() != addr {
			t.Fatalf("SetSIPListen(%q): %v, then %q", addr, err, n.SIPListen())
		}
	}
	for _, bad := range []string{"5060", ":0", ":65536", ":sip", "phone.lan:5060", "a b:5060", ":" + strings.Repeat("1", 70)} {
		if err := n.SetSIPListen(bad); err == nil {
			t.Errorf("SetSIPListen(%q) taken", bad)
		}
	}
	if got := n.SIPListen(); got != "[fd00::1]:5060" {
		t.Fatalf("a refused address changed the setting: %q", got)
	}
	if err := n.SetSIPListen(""); err != nil || n.SIPListen() != "" {
		t.Fatalf("switched off: %v, %q", err, n.SIPListen())
	}
}

// The addresses phones register to: LAN addresses only, IPv4 first, the port
// only when it is not 5060, the bound address when the registrar has one.
func TestSIPHosts(t *testing.T) {
	addrs := []netip.Addr{netip.MustParseAddr("fd00::7"), netip.MustParseAddr("127.0.0.1"),
		netip.MustParseAddr("fe80::1"), netip.MustParseAddr("10.0.0.5")}
	for listen, want := range map[string][]string{
		":5060":          {"10.0.0.5", "[fd00::7]"},
		":5070":          {"10.0.0.5:5070", "[fd00::7]:5070"},
		"0.0.0.0:5060":   {"10.0.0.5", "[fd00::7]"},
		"10.0.0.9:5062":  {"10.0.0.9:5062"},
		"127.0.0.1:5060": nil,
		"":               nil,
	} {
		if got := sipHosts(addrs, listen); !slices.Equal(got, want) {
			t.Errorf("sipHosts(%q) = %q, want %q", listen, got, want)
		}
	}
}
