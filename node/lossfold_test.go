package node

import (
	"math"
	"testing"

	"parley/identity"
	"parley/overlay"
	"parley/selection"
)

func TestFoldLossUsesTransportCountersInBatches(t *testing.T) {
	var e selection.LinkEstimator
	e.AddRTT(1e6)
	var seen [2]uint64
	// Kernel counters: 10 segments, 1 retransmitted: too few to judge yet.
	seen = foldLoss(&e, seen, overlay.Quality{Transport: true, SegsSent: 10, SegsRetrans: 1, Sent: 50, Lost: 0})
	if seen != ([2]uint64{}) || e.Metric(identity.PeerID{}).Loss != 0 {
		t.Fatalf("folded after 10 segments: seen %v, loss %v", seen, e.Metric(identity.PeerID{}).Loss)
	}
	// 40 segments, 2 retransmitted: one interval at 5 %. The ping counters
	// (no ping lost) are not what counts when the kernel's are there.
	seen = foldLoss(&e, seen, overlay.Quality{Transport: true, SegsSent: 40, SegsRetrans: 2, Sent: 60})
	if seen != [2]uint64{2, 40} {
		t.Fatalf("seen %v after folding", seen)
	}
	if got := e.Metric(identity.PeerID{}).Loss; math.Abs(float64(got)-0.05) > 1e-6 {
		t.Fatalf("loss %v, want 0.05", got)
	}
	// A new connection restarts its counters: counted from zero, not negative.
	seen = foldLoss(&e, seen, overlay.Quality{Transport: true, SegsSent: 25, SegsRetrans: 0})
	if seen != [2]uint64{0, 25} {
		t.Fatalf("seen %v after a reconnect", seen)
	}
	if got := e.Metric(identity.PeerID{}).Loss; math.Abs(float64(got)-2.0/65) > 1e-6 {
		t.Fatalf("loss %v after a clean interval, want 2 of the 65 packets", got)
	}
	// Without kernel counters, pings are the packets.
	var p selection.LinkEstimator
	p.AddRTT(1e6)
	foldLoss(&p, [2]uint64{}, overlay.Quality{Sent: 20, Lost: 1})
	if got := p.Metric(identity.PeerID{}).Loss; math.Abs(float64(got)-0.05) > 1e-6 {
		t.Fatalf("ping loss %v, want 0.05", got)
	}
}
