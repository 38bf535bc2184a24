package discovery

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"parley/internal/counters"
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
	deadline := time.Now().Add(5 * time.Second)
	for stats.Get("beacon_drop_queue") < sent-2 {
		if time.Now().After(deadline) {
			t.Fatalf("beacon_drop_queue = %d after %d datagrams into a queue of 2", stats.Get("beacon_drop_queue"), sent)
		}
		time.Sleep(5 * time.Millisecond)
	}
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
