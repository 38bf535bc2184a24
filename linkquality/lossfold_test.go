package linkquality

import (
	"math"
	"testing"

	"parley/identity"
	"parley/overlay"
	"parley/selection"
)

func lossOf(e *selection.LinkEstimator) float64 { return float64(e.Metric(identity.PeerID{}).Loss) }

func TestFoldLossUsesTransportCountersInBatches(t *testing.T) {
	var e selection.LinkEstimator
	e.AddRTT(1e6)
	var seen lossReading
	// Kernel counters: 10 segments, 1 retransmitted: too few to judge yet.
	seen = foldLoss(&e, seen, overlay.Quality{Transport: true, SegsSent: 10, SegsRetrans: 1, Sent: 50, SegsBytes: 600})
	if seen != (lossReading{}) || lossOf(&e) != 0 {
		t.Fatalf("folded after 10 segments: seen %v, loss %v", seen, lossOf(&e))
	}
	// 40 segments of pings and chat, 2 retransmitted: 5 %. The ping and frame
	// counters are not what counts when the kernel's are there.
	seen = foldLoss(&e, seen, overlay.Quality{Transport: true, SegsSent: 40, SegsRetrans: 2, Sent: 60, SegsBytes: 4000, TxBytes: 90000})
	if seen != (lossReading{lost: 2, sent: 40, bytes: 4000}) {
		t.Fatalf("seen %v after folding", seen)
	}
	if got := lossOf(&e); math.Abs(got-0.05) > 1e-6 {
		t.Fatalf("loss %v, want 0.05", got)
	}
	// A new connection restarts its counters: counted from zero, not negative.
	seen = foldLoss(&e, seen, overlay.Quality{Transport: true, SegsSent: 25, SegsBytes: 2000})
	if seen != (lossReading{sent: 25, bytes: 2000}) {
		t.Fatalf("seen %v after a reconnect", seen)
	}
	if got := lossOf(&e); math.Abs(got-2.0/65) > 1e-6 {
		t.Fatalf("loss %v after a clean stretch, want 2 of the 65 packets", got)
	}
	// A stretch of bulk data (a capacity probe: 45 full segments, 9 sent again)
	// is skipped, but counting starts after it.
	seen = foldLoss(&e, seen, overlay.Quality{Transport: true, SegsSent: 70, SegsRetrans: 9, SegsBytes: 2000 + 65536})
	if seen != (lossReading{lost: 9, sent: 70, bytes: 67536, bulk: true}) {
		t.Fatalf("seen %v after a bulk stretch", seen)
	}
	if got := lossOf(&e); math.Abs(got-2.0/65) > 1e-6 {
		t.Fatalf("loss %v after a bulk stretch, want it left at 2 of 65", got)
	}
	// The stretch after it may hold the burst's last retransmissions: skipped too.
	seen = foldLoss(&e, seen, overlay.Quality{Transport: true, SegsSent: 92, SegsRetrans: 12, SegsBytes: 67536 + 6000})
	if seen.bulk || math.Abs(lossOf(&e)-2.0/65) > 1e-6 {
		t.Fatalf("the stretch after a bulk one: seen %v, loss %v", seen, lossOf(&e))
	}
	// The one after that counts again: 22 clean packets.
	foldLoss(&e, seen, overlay.Quality{Transport: true, SegsSent: 114, SegsRetrans: 12, SegsBytes: 67536 + 7500})
	if got := lossOf(&e); math.Abs(got-2.0/87) > 1e-6 {
		t.Fatalf("loss %v, want 2 of 87 packets", got)
	}
	// Without kernel counters, pings are the packets.
	var p selection.LinkEstimator
	p.AddRTT(1e6)
	foldLoss(&p, lossReading{}, overlay.Quality{Sent: 20, Lost: 1, TxBytes: 1000})
	if got := lossOf(&p); math.Abs(got-0.05) > 1e-6 {
		t.Fatalf("ping loss %v, want 0.05", got)
	}
}
