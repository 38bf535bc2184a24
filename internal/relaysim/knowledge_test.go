package relaysim

import (
	"testing"
	"time"
)

func TestParseKnowledge(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Knowledge
		ok   bool
	}{
		{"", 0, true},
		{"loss", KnowLoss, true},
		{"loss,delay,peers", KnowLoss | KnowDelay | KnowPeers, true},
		{"pairs,shortlist", KnowAllPairs | KnowShortlist, true},
		{"loss,,peers", KnowLoss | KnowPeers, true},
		{"truth", 0, false},
		{"loss,Delay", 0, false},
	} {
		got, ok := ParseKnowledge(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseKnowledge(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok {
			back, _ := ParseKnowledge(got.String())
			if got != 0 && back != got {
				t.Errorf("%v does not round-trip through %q", got, got.String())
			}
		}
	}
	if s := Knowledge(0).String(); s != "none" {
		t.Errorf("zero Knowledge prints %q", s)
	}
}

// With every pair and every peer known truly, Rank sees what the oracle sees: its
// top choice is the oracle's on nearly every tick. The access shares are switched
// off for it: they pull even a true loss toward the ends' shares, which moves near
// ties, and bulk's one leg (no second leg to dilute a tie) is all near ties (its
// p95 read 50 % with them). This checks the diagnostic and, through it, that the
// simulator's truth and Rank's cost agree.
func TestFullKnowledgeRanksLikeTheOracle(t *testing.T) {
	for _, topo := range Topologies() {
		cfg := smallConfig(topo, 30)
		plain, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Knows = KnowAllPairs | KnowPeers
		cfg.Model = ModelNoShares
		known, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		worse := 0
		for i, p := range known.Purposes {
			if p.InstantGapP50 != 0 || p.InstantGapP95 > 0.02 {
				t.Errorf("%v %v: with full knowledge Rank's top is %.1f %% / %.1f %% off the oracle",
					topo, p.Purpose, 100*p.InstantGapP50, 100*p.InstantGapP95)
			}
			if plain.Purposes[i].InstantGapP95 > p.InstantGapP95 {
				worse++
			}
		}
		if worse == 0 {
			t.Errorf("%v: the published picture ranked as well as the truth in every purpose; is Knows applied?", topo)
		}
	}
}

// Short-list probes draw from their own random source: the world (churn, drift,
// publishing) must run exactly as without them, or rows would not compare.
func TestShortlistLeavesTheWorldAlone(t *testing.T) {
	cfg := smallConfig(WiredBackbone, 30)
	cfg.Duration = 6 * time.Minute
	plain, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Knows = KnowShortlist
	probed, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if MeasurementTable([]Result{plain}) != MeasurementTable([]Result{probed}) {
		t.Fatalf("probing changed the world:\n%s\n%s", MeasurementTable([]Result{plain}), MeasurementTable([]Result{probed}))
	}
	changed := false
	for i, p := range probed.Purposes {
		q := plain.Purposes[i]
		if p.Samples != q.Samples || p.OracleP50 != q.OracleP50 || p.OracleVsRandom != q.OracleVsRandom {
			t.Errorf("%v: the oracle or random baseline moved: %+v vs %+v", p.Purpose, p, q)
		}
		changed = changed || p.InstantGapP95 != q.InstantGapP95 || p.GapP95 != q.GapP95
	}
	if !changed {
		t.Error("short-list probes changed no choice")
	}
}
