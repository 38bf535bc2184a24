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

// A peer that sends the first frame of a probe burst and never the rest silences
// this link's RTT sampling for probeRxQuiet, not for as long as it likes (it was
// an hour).
func TestUnfinishedProbeBurstQuietsBriefly(t *testing.T) {
	l := &Link{}
	t0 := time.Unix(5000, 0)
	frame := appendProbeHeader(nil, probeHeader{ID: 7, Index: 0, Count: probeFrames})
	if _, done, err := l.probe.onProbe(l, frame, t0); err != nil || done {
		t.Fatalf("first probe frame: done %v, err %v", done, err)
	}
	sample := func(at time.Time) uint64 {
		ping := l.quality.nextPing(at)
		if err := l.quality.onPong(ping, at.Add(time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		return l.quality.snapshot().Samples
	}
	if n := sample(t0.Add(time.Second)); n != 0 {
		t.Fatalf("a ping sent during the burst was sampled (%d samples)", n)
	}
	if n := sample(t0.Add(probeRxQuiet + time.Second)); n != 1 {
		t.Fatalf("after the quiet spell: %d samples, want 1", n)
	}
}
