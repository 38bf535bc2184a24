package itest

import (
	"testing"
	"time"

	"parley/internal/netlab"
)

// TestRelayChoiceLive: six candidate relays between a (segment 1) and c (segment 2),
// shaped with tbf to 128 kbit/s, 256 kbit/s, 512 kbit/s, 1 and 8 Mbit/s and not at
// all; every node at production intervals (probe 10 min — each new link is probed
// 2 s after it comes up —, quality publication 30 s). Once every relay's spare
// bandwidth reached a, a's voice relay must land among the best by the shaping
// (8 Mbit/s or unshaped, netlab.BestLevels) and stay there for 30 s of decisions
// every 2 s, switching at most once (between the two best). cmd/benchrelaylive
// (make bench) watches the same lab for minutes and reports flaps per hour.
func TestRelayChoiceLive(t *testing.T) {
	netlab.RequireRoot(t)
	bin, err := netlab.BuildPlainBinary() // the probes time bursts: no race detector
	if err != nil {
		t.Fatal(err)
	}
	lab, err := netlab.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	res, err := netlab.RelayWatch{
		Lab: lab, Bin: bin, Dir: t.TempDir(),
		Settle: 50 * time.Second, Watch: 30 * time.Second, Every: 2 * time.Second,
		Log: t.Logf,
	}.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.InBest != res.Decisions {
		t.Errorf("%d of %d decisions chose a relay outside the best (%v)", res.Decisions-res.InBest, res.Decisions, res.Chosen)
	}
	if res.Switches > 1 {
		t.Errorf("the choice switched %d times in %d decisions (%v)", res.Switches, res.Decisions, res.Chosen)
	}
	// The published figures follow the shaping: the slowest relay's spare below the
	// 1 Mbit/s one's, below the unshaped one's.
	if p := res.Published; !(p["128kbit"] < p["1mbit"] && p["1mbit"] < p["none"]) {
		t.Errorf("published spare does not follow the shaping: %v", p)
	}
}
