package overlay

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// With ListenOn the listener binds the listed addresses (and 127.0.0.1), not the
// wildcard, and follows the list as it changes; a link comes up on a new address.
// On ca67723 the listener bound ":48556", answering on every address.
func TestListenOnFollowsTheAddressesInUse(t *testing.T) {
	var mu sync.Mutex
	want := []netip.Addr{netip.MustParseAddr("127.0.0.2")}
	setWant := func(a ...string) {
		mu.Lock()
		defer mu.Unlock()
		want = nil
		for _, s := range a {
			want = append(want, netip.MustParseAddr(s))
		}
	}
	b := startNodeCfg(t, 2, "bob", func(c *Config) {
		c.Listen = ""
		c.ListenOn = func() []netip.Addr {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(want)
		}
	}, nil)
	if ap, err := netip.ParseAddrPort(b.ov.ln.Addr().String()); err != nil || !ap.Addr().IsUnspecified() {
		t.Fatalf("listener address %v (%v): AdvertisedAddrs needs the unspecified address to list LocalAddrs", b.ov.ln.Addr(), err)
	}
	answers := func(a string) bool {
		c, err := net.DialTimeout("tcp", netip.AddrPortFrom(netip.MustParseAddr(a), b.ov.Port()).String(), time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	waitUntil(t, "127.0.0.2 to be bound", func() bool { return answers("127.0.0.2") })
	if !answers("127.0.0.1") {
		t.Error("127.0.0.1 not bound")
	}
	if answers("127.0.0.3") {
		t.Fatal("127.0.0.3 answers though it is not in use: a wildcard bind")
	}
	setWant("127.0.0.3")
	waitUntil(t, "127.0.0.3 to be bound", func() bool { return answers("127.0.0.3") })
	waitUntil(t, "127.0.0.2 to be closed", func() bool { return !answers("127.0.0.2") })

	a := startNode(t, 1, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := a.ov.Dial(ctx, b.id.ID, []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.3"), b.ov.Port())}); err != nil {
		t.Fatalf("dial the new address: %v", err)
	}
	b.halt()
	if al := b.ov.ln.(*addrListener); len(al.Bound()) != 0 {
		t.Errorf("sockets left open after Run returned: %v", al.Bound())
	}
}
