package relaysim

import (
	"math"
	"strings"
	"testing"
	"time"

	"parley/selection"
)

func smallConfig(t Topology, peers int) Config {
	c := DefaultConfig(t, peers, 3)
	c.Warmup, c.Duration, c.Decisions = 3*time.Minute, 12*time.Minute, 4
	return c
}

func TestRunIsDeterministic(t *testing.T) {
	cfg := smallConfig(WiFiCells, 24)
	a, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := Table([]Result{a})+DiagnosticsTable([]Result{a}), Table([]Result{b})+DiagnosticsTable([]Result{b})
	if ta != tb {
		t.Fatalf("same config, different results:\n%s\n%s", ta, tb)
	}
	cfg.Seed++
	c, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if Table([]Result{c}) == Table([]Result{a}) {
		t.Fatal("a different seed gave the same results")
	}
}

func TestRunIsSane(t *testing.T) {
	for _, topo := range Topologies() {
		res, err := Run(smallConfig(topo, 30))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Purposes) != len(selection.Purposes()) {
			t.Fatalf("%v: %d purposes", topo, len(res.Purposes))
		}
		for _, p := range res.Purposes {
			if p.Samples == 0 {
				t.Fatalf("%v %v: no samples", topo, p.Purpose)
			}
			// Nothing beats the oracle; the choice must beat random on the whole.
			if p.GapP50 < 0 || p.InstantGapP50 < 0 || p.AbsGapP50 < 0 || math.IsNaN(p.GapP95) {
				t.Errorf("%v %v: gaps %+v", topo, p.Purpose, p)
			}
			if p.OracleVsRandom <= 0 || p.VsRandom <= 0 {
				t.Errorf("%v %v: not better than random: %+v", topo, p.Purpose, p)
			}
			checkSessions(t, topo, p)
		}
		if res.VivaldiErr <= 0 || res.VivaldiErr > 0.5 {
			t.Errorf("%v: Vivaldi median error %.2f", topo, res.VivaldiErr)
		}
		if res.PublishOut <= 0 || res.PublishIn <= res.PublishOut || res.Probe <= 0 || res.MeanRecordBytes < 35 {
			t.Errorf("%v: byte counts %+v", topo, res)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	bad := []func(*Config){
		func(c *Config) { c.Topology = 7 },
		func(c *Config) { c.Peers = 3 },
		func(c *Config) { c.Tick = 7 * time.Second },
		func(c *Config) { c.Probe = 0 },
		func(c *Config) { c.Duration = 0 },
		func(c *Config) { c.Decisions = 0 },
	}
	for i, mut := range bad {
		c := DefaultConfig(WiFiCells, 50, 1)
		mut(&c)
		if _, err := Run(c); err == nil || !strings.HasPrefix(err.Error(), "relaysim: ") {
			t.Errorf("case %d: err = %v", i, err)
		}
	}
}

func TestCrossSegmentPathsUseABridge(t *testing.T) {
	w := testWorld(t, Bridged, 40)
	var a, b *node
	for _, n := range w.nodes {
		if n.bridge {
			continue
		}
		switch {
		case n.att[0].seg == 0 && a == nil:
			a = n
		case n.att[0].seg == 1 && b == nil:
			b = n
		}
	}
	r, s, ok := w.route(a, b)
	if !ok || r.n != 2 || !r.hops[0].y.bridge || r.hops[0].y != r.hops[1].x {
		t.Fatalf("route %d→%d: %+v ok=%v, want two hops through a bridge", a.idx, b.idx, r, ok)
	}
	via := r.hops[0].y
	if d := w.truth(a, via).mean + w.truth(via, b).mean + fwdMs; math.Abs(d-s.mean) > 1e-9 {
		t.Fatalf("path mean %.3f, hops sum to %.3f", s.mean, d)
	}
	for _, bi := range w.bridges {
		w.nodes[bi].online = bi == w.bridges[0] // only the pinned bridge left
	}
	w.truthEpoch++
	if r, _, ok := w.route(a, b); !ok || r.hops[0].y.idx != w.bridges[0] {
		t.Fatal("did not fall back to the remaining bridge")
	}
}

// checkSessions: every session was scored, no strategy beats the oracle (it is
// the best of the same candidates every tick), and voice sessions carry E-model
// ratings.
func checkSessions(t *testing.T, topo Topology, p PurposeResult) {
	t.Helper()
	if len(p.Sessions) == 0 {
		t.Errorf("%v %v: no sessions", topo, p.Purpose)
	}
	voice := p.Purpose == selection.VoiceRelay || p.Purpose == selection.CallMixer
	for _, s := range p.Sessions {
		for _, st := range Strategies() {
			if s.Ticks == 0 || s.Cost[st] < s.Oracle-1e-9 || !(s.Oracle > 0) {
				t.Fatalf("%v %v: %v costs %v, oracle %v over %d ticks", topo, p.Purpose, st, s.Cost[st], s.Oracle, s.Ticks)
			}
			if voice != !math.IsNaN(s.R[st]) || (voice && (s.R[st] > emodelR0 || s.R[st] < 0)) {
				t.Fatalf("%v %v: %v rated R %v", topo, p.Purpose, st, s.R[st])
			}
		}
	}
}
