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

// A capacity probe is measurement, not load: its burst must not show in the
// link's carried rate, or the spare bandwidth published right after a probe
// (capacity minus carried) reads near zero on a slow link and ranking flaps
// (TestRelayChoiceFollowsShaping saw r2's spare term jump 5120 ↔ 256 between
// two probes of the same 256 kbit/s link). The bytes still count as sent: the
// loss fold reads segments per byte (linkquality/lossfold.go).
func TestProbeBurstIsNotCarriedLoad(t *testing.T) {
	var s rttStats
	t0 := time.Unix(5000, 0)
	s.updateRates(t0)
	frame := AppendFrame(nil, TypeProbe, make([]byte, probeFrameSize-frameHeaderLen))
	for range probeFrames {
		s.countTx(frame)
		s.countRx(TypeProbe, len(frame))
	}
	chat := AppendFrame(nil, 16, make([]byte, 994))
	s.countTx(chat)
	s.countRx(16, len(chat))
	s.updateRates(t0.Add(time.Second))
	q := s.snapshot()
	if want := float64(0.3 * 1000); q.TxBps != want || q.RxBps != want {
		t.Fatalf("carried rate after a probe burst: tx %.0f rx %.0f B/s, want %.0f (the chat frame only)", q.TxBps, q.RxBps, want)
	}
	if want := uint64(probeFrames*len(frame) + len(chat)); q.TxBytes != want || q.RxBytes != want {
		t.Fatalf("bytes counted: tx %d rx %d, want %d", q.TxBytes, q.RxBytes, want)
	}
}
