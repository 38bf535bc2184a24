package discovery

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"parley/internal/counters"
	"parley/internal/testwait"
)

// TestReadLoopCountsQueueDrops fills the receive queue through the real read loop
// (on a loopback socket, no multicast needed) and checks that the overflow is
// counted rather than lost silently, while the queued datagrams stay intact.
func TestReadLoopCountsQueueDrops(t *testing.T) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback UDP: %v", err)
	}
	var stats counters.Set
	tr := &multicastTransport{log: slog.Default(), c4: c, recv: make(chan packet, 2), done: make(chan struct{}), stats: &stats}
	defer tr.Close()
	go tr.readLoop(c)

	out, err := net.Dial("udp4", c.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	const sent = 5
	for i := range sent {
		if _, err := out.Write([]byte{'b', byte('0' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	// A real socket: the datagrams arrive when the kernel delivers them, so this
	// waits on the counter (synctest cannot: a socket read is not durably blocked).
	testwait.Until(t, 5*time.Second, 5*time.Millisecond, fmt.Sprintf("beacon_drop_queue to reach %d after %d datagrams into a queue of 2", sent-2, sent), func() bool {
		return stats.Get("beacon_drop_queue") >= sent-2
	})
	buf := make([]byte, MaxBeaconSize)
	for i := range 2 {
		n, src, err := tr.Recv(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:n]); got != string([]byte{'b', byte('0' + i)}) || !src.IsLoopback() {
			t.Fatalf("queued datagram %d = %q from %v", i, got, src)
		}
	}
	if got := stats.Get("beacon_drop_queue"); got != sent-2 {
		t.Fatalf("beacon_drop_queue = %d, want %d", got, sent-2)
	}
}

func TestOnLink(t *testing.T) {
	nets := map[int][]netip.Prefix{
		2: {netip.MustParsePrefix("10.77.1.0/24"), netip.MustParsePrefix("2001:db8:1::/64")},
		3: {netip.MustParsePrefix("192.168.5.0/24")},
		4: nil, // in use, no address yet
	}
	for _, c := range []struct {
		ifIndex int
		src     string
		want    bool
	}{
		{2, "10.77.1.12", true},
		{2, "::ffff:10.77.1.12", true},
		{2, "10.77.2.12", false},      // another subnet: routed, or spoofed
		{2, "192.168.5.7", false},     // on-link, but of another interface
		{0, "192.168.5.7", true},      // receiving interface unknown: any in use
		{2, "2001:db8:1::7", true},    //
		{2, "2001:db8:2::7", false},   // a global address elsewhere: the Internet
		{4, "fe80::1", true},          // link-local is on-link by definition
		{4, "fe80::1%eth9", true},     //
		{5, "fe80::1", false},         // an interface not in use
		{5, "10.77.1.12", false},      //
		{0, "203.0.113.9", false},     //
		{3, "169.254.10.1", false},    // IPv4 link-local only with such an address
		{2, "127.0.0.1", false},       // loopback is not a LAN neighbour
		{0, "2001:db8:1::ffff", true}, //
	} {
		if got := OnLink(nets, c.ifIndex, netip.MustParseAddr(c.src)); got != c.want {
			t.Errorf("OnLink(if %d, %s) = %v, want %v", c.ifIndex, c.src, got, c.want)
		}
	}
}

// A datagram from a source on no on-link subnet of the interfaces in use is
// dropped before it is queued (issue 16: beacon sockets accepted unicast from
// anywhere). Fails on ca67723: the datagram from 127.0.0.1 was queued.
func TestReadLoopDropsOffLinkSources(t *testing.T) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback UDP: %v", err)
	}
	var stats counters.Set
	tr := &multicastTransport{log: slog.Default(), c4: c, recv: make(chan packet, 4), done: make(chan struct{}), stats: &stats,
		onLink: map[int][]netip.Prefix{7: {netip.MustParsePrefix("10.77.1.0/24")}}}
	defer tr.Close()
	go tr.readLoop(c)
	out, err := net.Dial("udp4", c.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := out.Write([]byte("from loopback")); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, 5*time.Second, 5*time.Millisecond, "the datagram from an off-link source to count as beacon_drop_source", func() bool {
		return stats.Get("beacon_drop_source") != 0
	})
	if len(tr.recv) != 0 {
		t.Fatal("datagram from an off-link source was queued")
	}
	// Once loopback's subnet is on-link (as if lo were in use), it passes.
	tr.mu.Lock()
	tr.onLink[1] = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	tr.mu.Unlock()
	if _, err := out.Write([]byte("on-link now")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, MaxBeaconSize)
	n, _, err := tr.Recv(buf)
	if err != nil || string(buf[:n]) != "on-link now" {
		t.Fatalf("Recv = %q, %v", buf[:n], err)
	}
}
