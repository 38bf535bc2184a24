package overlay

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// TestProbeCapacity measures a real TLS link over loopback with one bounded burst:
// the rate must be positive and plausible, the bytes bounded, and the link stays up.
func TestProbeCapacity(t *testing.T) {
	a := startNode(t, 41, "alice")
	b := startNode(t, 42, "bob")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := a.ov.Dial(ctx, b.id.ID, []netip.AddrPort{b.addr()}); err != nil {
		t.Fatal(err)
	}
	bps, err := a.ov.ProbeCapacity(ctx, b.id.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Loopback TLS moves well over 10 Mbit/s even on a loaded CI machine, and a 64 KiB
	// burst cannot claim more than a few hundred Gbit/s.
	if bps < 10e6 || bps > 1e12 {
		t.Fatalf("probe measured %.0f bit/s", bps)
	}
	if got, at := a.ov.LastProbe(b.id.ID); got != bps || time.Since(at) > time.Minute {
		t.Fatalf("LastProbe = %v at %v", got, at)
	}
	if sent := a.ov.Stats()["probe_bytes_sent"]; sent != ProbeBytes {
		t.Fatalf("probe sent %d bytes, bound is %d", sent, ProbeBytes)
	}
	if !a.ov.Linked(b.id.ID) || !b.ov.Linked(a.id.ID) {
		t.Fatal("link lost after the probe")
	}
	if _, err := a.ov.ProbeCapacity(ctx, a.id.ID); err == nil {
		t.Fatal("probing a peer without a link succeeded")
	}
	t.Logf("loopback TLS link: %.1f Mbit/s", bps/1e6)
}
