package relaysim

import (
	"math"
	"slices"
	"testing"
	"time"

	"parley/overlay"
	"parley/selection"
)

// The probe model's constants are the node's.
func TestProbeModelMatchesNode(t *testing.T) {
	if probeBurstBytes != overlay.ProbeBytes+8*6 || probeFrameLen != overlay.ProbeBytes/8+6 {
		t.Fatalf("burst %d / frame %d do not match overlay.ProbeBytes %d", probeBurstBytes, probeFrameLen, overlay.ProbeBytes)
	}
}

// A 64 KiB burst reads a slow path nearly right and a fast one low (slow start
// from the initial window costs two round trips, which at 1 Gbit/s take about as
// long as the burst itself); a path that cannot carry it in 10 s reads as the
// node's timeout rule.
func TestBurstReading(t *testing.T) {
	for _, tc := range []struct {
		avail, rtt, lo, hi float64
	}{
		{5_000, 3, 0.85, 1.001},    // 5 Mbit/s Wi-Fi: serialising dominates
		{40_000, 3, 0.9, 1.001},    // 40 Mbit/s Wi-Fi: the initial window about fills the path
		{1_000_000, 0.3, 0.4, 0.8}, // gigabit wired: the round trips dominate
	} {
		got := burstKbps(tc.avail, tc.rtt) / tc.avail
		if got < tc.lo || got > tc.hi {
			t.Errorf("%.0f kbit/s at %.1f ms reads %.2f of it, want %.2f–%.2f", tc.avail, tc.rtt, got, tc.lo, tc.hi)
		}
	}
	if got, want := burstKbps(20, 1), 57.4*8/10; math.Abs(got-want) > 1 {
		t.Errorf("a 20 kbit/s path reads %.1f kbit/s, want the 10 s timeout's %.1f", got, want)
	}
}

// What a peer publishes as spare bandwidth is its links' last probes: a change
// of its real spare capacity shows only when a link is probed again.
func TestSpareIsStaleUntilTheNextProbe(t *testing.T) {
	w := testWorld(t, WiredBackbone, 20)
	n := w.nodes[0]
	n.online = true
	for _, j := range n.nbrs {
		w.nodes[j].online = true
	}
	w.now = 5 * time.Second
	w.spareProbeDue(n, false)
	before, _ := w.probedSpare(n)
	if before <= 0 {
		t.Fatal("no spare bandwidth after a probe round")
	}
	n.utilUp = 0.99 // the owner starts a big upload
	w.now += probeEvery - time.Second
	w.spareProbeDue(n, false)
	if again, _ := w.probedSpare(n); again != before {
		t.Fatalf("spare %.0f → %.0f before the next probe was due", before, again)
	}
	w.now += time.Second
	w.spareProbeDue(n, false)
	if after, _ := w.probedSpare(n); after > before/5 {
		t.Fatalf("spare %.0f → %.0f kbit/s after a probe of a 99 %% used uplink", before, after)
	}
}

// A far ping measures the overlay path, hop by hop, never less than the direct
// path between the two peers (within the samples' queueing noise).
func TestFarPingTakesTheOverlayPath(t *testing.T) {
	w := testWorld(t, WiredBackbone, 100)
	n := w.nodes[0]
	for _, m := range w.nodes {
		if len(m.nbrs) < len(n.nbrs) {
			n = m
		}
	}
	far := w.randomFar(n)
	if far == nil || slices.Contains(n.nbrs, far.idx) {
		t.Fatalf("randomFar gave %v, a neighbour or none", far)
	}
	path := w.overlayPath(n, far)
	if len(path) < 2 || path[len(path)-1] != far {
		t.Fatalf("path to a non-neighbour has %d hops, ends at %v", len(path), path)
	}
	prev := n
	for _, x := range path {
		if !slices.Contains(prev.nbrs, x.idx) {
			t.Fatalf("hop %d → %d is not an overlay link", prev.idx, x.idx)
		}
		prev = x
	}
	c := n.coord
	w.now = time.Second
	w.farPingDue(n, false) // schedules
	w.now = n.nextFar
	w.farPingDue(n, false)
	if n.coord == c {
		t.Fatal("a far ping did not move the coordinate")
	}
}

// Bulk ranks sources on one leg and keeps the session's first pick.
func TestBulkIsOneLegAndHeld(t *testing.T) {
	w := testWorld(t, Bridged, 30)
	if ends := w.pickEndpoints(selection.BulkTransfer); len(ends) != 1 || ends[0].bridge {
		t.Fatalf("bulk endpoints %v, want one requester, not a bridge", ends)
	}
	c := selection.NewChooser(holdHysteresis())
	t0 := time.Unix(0, 0)
	c.ChooseAt(t0, "k", []selection.Ranked{{ID: "a", Cost: 100}, {ID: "b", Cost: 200}})
	got, sw := c.ChooseAt(t0.Add(time.Hour), "k", []selection.Ranked{{ID: "b", Cost: 1}, {ID: "a", Cost: 100}})
	if sw || got.ID != "a" {
		t.Fatalf("hold switched to %q", got.ID)
	}
	if got, sw := c.ChooseAt(t0.Add(time.Hour), "k", []selection.Ranked{{ID: "b", Cost: 1}}); !sw || got.ID != "b" {
		t.Fatalf("a source gone was not replaced: %q", got.ID)
	}
}
