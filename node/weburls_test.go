package node

import (
	"net/netip"
	"slices"
	"testing"
)

func TestWebURLs(t *testing.T) {
	addrs := []netip.Addr{
		netip.MustParseAddr("fd00::5"),
		netip.MustParseAddr("192.168.1.10"),
		netip.MustParseAddr("fe80::1"),   // needs a zone: no URL
		netip.MustParseAddr("127.0.0.1"), // reaches no other device
		netip.MustParseAddr("::ffff:10.0.0.7"),
		netip.MustParseAddr("192.168.1.10"), // twice (two interfaces)
	}
	got := webURLs(addrs, 48558)
	want := []string{"https://192.168.1.10:48558/", "https://10.0.0.7:48558/", "https://[fd00::5]:48558/"}
	if !slices.Equal(got, want) {
		t.Fatalf("webURLs = %q, want %q", got, want)
	}
	if got := webURLs(addrs, 0); got != nil {
		t.Fatalf("web server off: %q, want none", got)
	}
}

func TestWebPortOf(t *testing.T) {
	for in, want := range map[string]int{":48558": 48558, "192.168.1.10:9000": 9000, "[::1]:443": 443,
		"off": 0, "": 0, ":0": 0, ":http": 0, ":70000": 0} {
		if got := WebPortOf(in); got != want {
			t.Errorf("WebPortOf(%q) = %d, want %d", in, got, want)
		}
	}
}
