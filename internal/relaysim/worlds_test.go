package relaysim

import (
	"math"
	"testing"
	"time"
)

func worldOf(t *testing.T, topo Topology, peers int, k World) *world {
	t.Helper()
	w := testWorld(t, topo, peers)
	w.cfg.World = k
	w.buildWorld()
	w.truthEpoch++
	return w
}

// TestGilbertLoss: the bursty world keeps the mean loss and clumps it.
func TestGilbertLoss(t *testing.T) {
	w := worldOf(t, WiFiCells, 12, WorldBursty)
	a, b := w.nodes[0], w.nodes[1]
	const p, rounds = 0.05, 20000
	var sum, clumps, clumpsIndep float64
	for range rounds {
		k := w.lostOn(a, b, p)
		sum += float64(k)
		if k >= 3 {
			clumps++
		}
		if w.lost(p) >= 3 {
			clumpsIndep++
		}
	}
	if mean := sum / (rounds * packetsPerProbe); math.Abs(mean-p) > 0.005 {
		t.Fatalf("mean loss %.4f, want %.2f", mean, p)
	}
	if clumps < 5*clumpsIndep {
		t.Fatalf("intervals with ≥ 3 losses: %v bursty, %v independent; want clumps", clumps, clumpsIndep)
	}
	if br := w.burstRatio(p); br < 3 || br > burstLen {
		t.Fatalf("BurstR %.2f", br)
	}
	if RFactor(0, p) <= rFactor(0, p, w.burstRatio(p)) {
		t.Fatal("bursty loss does not rate worse")
	}
}

// TestPairNoise: pairs differ from the sum of their ends' shares, while the base
// world stays as it was.
func TestPairNoise(t *testing.T) {
	base := testWorld(t, WiFiCells, 30)
	noisy := worldOf(t, WiFiCells, 30, WorldPairs)
	differ := 0
	for i := 1; i < 30; i++ {
		b, n := base.truth(base.nodes[0], base.nodes[i]), noisy.truth(noisy.nodes[0], noisy.nodes[i])
		if n.loss != b.loss || n.jitter != b.jitter {
			differ++
		}
		if math.Abs(n.mean-b.mean) > 5*b.mean {
			t.Fatalf("pair 0–%d: mean %.2f vs %.2f", i, n.mean, b.mean)
		}
	}
	if differ < 25 {
		t.Fatalf("only %d of 29 pairs changed", differ)
	}
}

// TestContention: a Wi-Fi relay for an endpoint on its own access point pays for
// the air twice; other legs are unchanged.
func TestContention(t *testing.T) {
	w := worldOf(t, WiFiCells, 40, WorldContention)
	same, other := 0, 0
	for _, c := range w.nodes {
		for _, e := range w.nodes {
			if c == e || !c.att[0].wireless {
				continue
			}
			got, was := w.relayLeg(c, e), w.truth(c, e)
			if e.att[0].wireless && e.att[0].cell == c.att[0].cell {
				same++
				if !(got.mean > was.mean && got.loss >= was.loss) {
					t.Fatalf("same cell: %+v vs %+v", got, was)
				}
			} else {
				other++
				if got != was {
					t.Fatalf("different cells changed: %+v vs %+v", got, was)
				}
			}
		}
	}
	if same == 0 || other == 0 {
		t.Fatalf("same-cell legs %d, others %d", same, other)
	}
}

// TestLoadFeedback: in the load world, a run's chosen relays carry the sessions
// that chose them, and the run still scores every session.
func TestLoadFeedback(t *testing.T) {
	cfg := smallConfig(WiFiCells, 30)
	cfg.World, cfg.Duration = WorldLoad, 5*time.Minute
	w := &world{cfg: cfg, rnd: newRand(cfg)}
	w.build()
	w.buildWorld()
	w.chooseNeighbours()
	w.initProcesses()
	ev := w.newEvaluator()
	for step := 1; step <= 60; step++ {
		w.now = cfgDur(step, cfg)
		w.advance(w.now)
		if err := w.probe(false); err != nil {
			t.Fatal(err)
		}
		if step%2 == 0 {
			if err := ev.tick(); err != nil {
				t.Fatal(err)
			}
		}
	}
	ev.carry()
	carried := 0
	for _, n := range w.nodes {
		carried += n.carried
		if n.carried > 0 {
			up, _ := n.trueSpare()
			if want := n.capUp*(1-n.utilUp) - float64(n.bgSessions)*bgKbps - float64(n.carried)*loadKbpsSession; up != math.Max(1, want) {
				t.Fatalf("spare %v, want %v", up, want)
			}
			if p := n.truePeer(); int(p.RelaySessions) != n.bgSessions+n.carried {
				t.Fatalf("sessions %d, want %d", p.RelaySessions, n.bgSessions+n.carried)
			}
		}
	}
	active := 0
	for _, d := range ev.decisions {
		if d.active {
			active++
		}
	}
	if carried != active || active == 0 {
		t.Fatalf("%d sessions carried, %d decisions active", carried, active)
	}
	// Each decision's request names its own session on its current choice, as a
	// node's Relays names its call legs (selection.Request.Own).
	for _, d := range ev.decisions {
		if !d.active {
			continue
		}
		cur, _ := ev.chooser(d.purpose, Selection).Current(d.key)
		if own := ev.request(d).Own; len(own) != 1 || own[cur] != 1 {
			t.Fatalf("decision on %s: Own = %v, want its session there", cur, own)
		}
	}
}

func TestParseWorldAndModel(t *testing.T) {
	if k, ok := ParseWorld("pairs,load"); !ok || k != WorldPairs|WorldLoad || k.String() != "pairs,load" {
		t.Fatalf("ParseWorld = %v, %v", k, ok)
	}
	if k, ok := ParseWorld("all"); !ok || k.String() != "pairs,bursty,contention,load" {
		t.Fatalf("all = %v", k)
	}
	if _, ok := ParseWorld("wormholes"); ok {
		t.Fatal("unknown world accepted")
	}
	if m, ok := ParseModel("no-cells"); !ok || m != ModelNoCells || m.String() != "no-cells" {
		t.Fatalf("ParseModel(no-cells) = %v, %v", m, ok)
	}
	if m, ok := ParseModel("no-shares"); !ok || m != ModelNoShares {
		t.Fatalf("ParseModel = %v, %v", m, ok)
	}
	if _, ok := ParseModel("half"); ok {
		t.Fatal("unknown model accepted")
	}
}
