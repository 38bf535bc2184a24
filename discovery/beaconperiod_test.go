package discovery

import (
	"testing"
	"time"
)

// The beacons of a whole link stay near 4 a second however many nodes share it,
// and never come less often than the configured period.
func TestBeaconPeriodGrowsWithTheNeighbourhood(t *testing.T) {
	base := 5 * time.Second
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{0, base}, {5, base}, {20, base}, {40, 10 * time.Second}, {200, 50 * time.Second}} {
		got := beaconPeriod(base, tc.n)
		if got != tc.want {
			t.Errorf("%d neighbours: every %v, want %v", tc.n, got, tc.want)
		}
		if tc.n > 0 {
			if perSecond := float64(tc.n+1) / got.Seconds(); tc.n >= 20 && perSecond > 1/beaconSpacing.Seconds()*1.1 {
				t.Errorf("%d neighbours: %.1f beacons a second on the link", tc.n, perSecond)
			}
		}
	}
}

// An address is kept for four of the current beacon periods, so a neighbour in
// a large hall is not dropped between two of its own slower beacons.
func TestTableTTLFollowsThePeriod(t *testing.T) {
	clk := newFakeClock()
	tab := NewTable(20*time.Second, 4096, clk.Now)
	alice := testIdentity(t, 1)
	tab.Observe(Sighting{ID: alice.ID, PubKey: alice.Public, Addr: ap("192.0.2.1:4000"), Source: SourceBeacon, Name: "alice", Seq: 10})
	tab.SetTTL(4 * beaconPeriod(5*time.Second, 200))
	clk.Advance(150 * time.Second)
	if gone := tab.Expire(); len(gone) != 0 {
		t.Fatalf("expired after 150 s with a 200 s TTL: %v", gone)
	}
	clk.Advance(60 * time.Second)
	if gone := tab.Expire(); len(gone) != 1 {
		t.Fatalf("kept after 210 s with a 200 s TTL")
	}
}

// Browsing keeps its quick start-up schedule, then queries less often in a large
// neighbourhood: every 30 s up to 30 neighbours, n seconds beyond.
func TestMDNSPeriodGrowsWithTheNeighbourhood(t *testing.T) {
	for i, want := range mdnsBackoff[:len(mdnsBackoff)-1] {
		if got := mdnsPeriod(i, 200); got != want {
			t.Errorf("step %d: %v, want the start-up %v", i, got, want)
		}
	}
	last := len(mdnsBackoff) - 1
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{5, 30 * time.Second}, {30, 30 * time.Second}, {200, 200 * time.Second}} {
		if got := mdnsPeriod(last+3, tc.n); got != tc.want {
			t.Errorf("%d neighbours: every %v, want %v", tc.n, got, tc.want)
		}
	}
}

// A test's short period is kept in a small neighbourhood.
func TestBeaconPeriodKeepsAShortBase(t *testing.T) {
	if got := beaconPeriod(100*time.Millisecond, 3); got != 100*time.Millisecond {
		t.Errorf("a 100 ms base with 3 neighbours became %v", got)
	}
}

// A table filled with throwaway keys stretches the periods only so far.
func TestPeriodsAreBoundedUnderAFlood(t *testing.T) {
	if got := beaconPeriod(5*time.Second, 4096); got != maxBeaconPeriod {
		t.Errorf("4,096 neighbours: beacons every %v, want %v", got, maxBeaconPeriod)
	}
	if got := mdnsPeriod(99, 4096); got != 5*time.Minute {
		t.Errorf("4,096 neighbours: mDNS every %v, want 5m", got)
	}
}
