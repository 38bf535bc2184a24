package relaysim

import (
	"math"
	"testing"

	"parley/selection"
)

// TestTruthMatchesEstimators checks the closed-form truth of a path against what the
// peers' own estimator (selection.LinkEstimator) reports on samples of that path: the simulator must
// mean by "true jitter" what the peers measure as jitter, or every comparison with
// the oracle would be skewed by definitions rather than information.
func TestTruthMatchesEstimators(t *testing.T) {
	w := testWorld(t, Bridged, 40)
	checked := 0
	for i := 0; i < len(w.nodes) && checked < 40; i += 3 {
		for _, j := range []int{(i + 7) % len(w.nodes), (i + 1) % len(w.nodes)} {
			x, y := w.nodes[i], w.nodes[j]
			if x == y {
				continue
			}
			for _, mult := range []float64{1, 3} {
				for c := range w.cells {
					w.cells[c].mult = mult
				}
				r, truth, ok := w.route(x, y)
				if !ok {
					t.Fatalf("no route %d→%d", i, j)
				}
				var e selection.LinkEstimator
				var sumSRTT, sumVar, sumJit float64
				const burn, n = 200, 40000
				for k := range burn + n {
					e.AddRTT(msDur(w.sample(r)))
					if k >= burn {
						m := e.Metric(x.pid)
						sumSRTT += ms(m.RTT)
						sumVar += ms(m.RTTVar)
						sumJit += ms(m.Jitter)
					}
				}
				got := legStat{mean: sumSRTT / n, rttVar: sumVar / n, jitter: sumJit / n}
				check := func(name string, g, want, tol float64) {
					if math.Abs(g-want) > tol*want+0.05 {
						t.Errorf("%d→%d (%d hops, ×%.0f): %s estimator %.2f, truth %.2f", i, j, r.n, mult, name, g, want)
					}
				}
				check("RTT", got.mean, truth.mean, 0.03)
				check("RTT deviation", got.rttVar, truth.rttVar, 0.15)
				check("jitter", got.jitter, truth.jitter, 0.15)
				checked++
			}
		}
	}
}

func testWorld(t *testing.T, topo Topology, peers int) *world {
	t.Helper()
	cfg := DefaultConfig(topo, peers, 7)
	w := &world{cfg: cfg, rnd: newRand(cfg)}
	w.build()
	w.chooseNeighbours()
	w.initProcesses()
	for _, n := range w.nodes {
		n.online = true
	}
	return w
}

func TestTruthCacheFollowsChanges(t *testing.T) {
	w := testWorld(t, Bridged, 30)
	a, b := w.nodes[5], w.nodes[25] // different segments
	before := w.truth(a, b)
	w.cells[w.nodes[5].att[0].cell].mult = 4
	if w.truth(a, b) != before {
		t.Fatal("cache ignored a change it was not told about: test is wrong")
	}
	w.truthEpoch++
	if after := w.truth(a, b); after == before && w.nodes[5].att[0].wireless {
		t.Fatal("cache survived an epoch change")
	}
	_, direct, _ := w.route(a, b)
	if w.truth(a, b) != direct {
		t.Fatal("cached truth differs from the route's")
	}
}
