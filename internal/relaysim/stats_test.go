package relaysim

import (
	"math"
	"regexp"
	"testing"
	"time"

	"parley/selection"
)

func TestRFactor(t *testing.T) {
	// No network delay, no loss: 93.2 less the fixed codec/buffer delay's Id.
	if got, want := RFactor(0, 0), 93.2-0.024*fixedMouthToEar; math.Abs(got-want) > 1e-9 {
		t.Fatalf("R(0, 0) = %v, want %v", got, want)
	}
	// 1 % random loss with Bpl 25.1: Ie,eff = 95·1/(1+25.1) = 3.64 points.
	if d := RFactor(0, 0) - RFactor(0, 0.01); math.Abs(d-95/26.1) > 1e-9 {
		t.Fatalf("1 %% loss costs %v R, want %v", d, 95/26.1)
	}
	// 10 ms more one-way delay below 177 ms: 0.24 points; beyond, 0.134 per ms.
	if d := RFactor(10, 0) - RFactor(20, 0); math.Abs(d-0.24) > 1e-9 {
		t.Fatalf("10 ms costs %v R", d)
	}
	if d := RFactor(200, 0) - RFactor(201, 0); math.Abs(d-0.134) > 1e-9 {
		t.Fatalf("1 ms past 177.3 costs %v R", d)
	}
}

func TestHeldOutRule(t *testing.T) {
	seeds := HeldOutSeeds()
	if len(seeds) < 10 {
		t.Fatalf("%d held-out seeds, the issue asks for at least 10", len(seeds))
	}
	for _, s := range seeds {
		if !HeldOut(s) || s < 11 {
			t.Fatalf("default seed %d is a tuning seed", s)
		}
	}
	for s := uint64(1); s <= 10; s++ {
		if HeldOut(s) {
			t.Fatalf("tuning seed %d counted as held out", s)
		}
	}
	if got := SeedList([]uint64{13, 11, 12, 15}); got != "11–13, 15" {
		t.Fatalf("SeedList = %q", got)
	}
}

// session builds a sample where every strategy costs c except those in over.
func session(oracle, random, sel float64) SessionSample {
	s := SessionSample{Ticks: 10, Oracle: oracle, ROracle: math.NaN()}
	for i := range s.Cost {
		s.Cost[i] = random
		s.R[i] = math.NaN()
	}
	s.Cost[Selection] = sel
	return s
}

func TestAggregate(t *testing.T) {
	mk := func(seed uint64, sessions ...SessionSample) Result {
		return Result{Config: Config{Topology: WiFiCells, Peers: 50, Seed: seed},
			Purposes: []PurposeResult{{Purpose: selection.ChatForward, Sessions: sessions}}}
	}
	// Oracle 10, random 30: selection at 15 captures 75 %, at 10 all of it.
	res := []Result{
		mk(11, session(10, 30, 15), session(10, 30, 15)),
		mk(12, session(10, 30, 10), session(10, 30, 15)),
	}
	res[0].Purposes[0].Sessions[0].Switches[Selection] = 1
	rows := Aggregate(res, 10*time.Second)
	if len(rows) != 1 || rows[0].Sessions != 4 || len(rows[0].Seeds) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	s := rows[0].Strat[Selection]
	if c := s.Captured.V; math.Abs(c-(15+15+20+15)/80.0) > 1e-9 {
		t.Fatalf("captured %v", c)
	}
	if !(s.Captured.Lo <= s.Captured.V && s.Captured.V <= s.Captured.Hi) || math.IsNaN(s.Captured.Lo) {
		t.Fatalf("interval %+v does not hold the estimate", s.Captured)
	}
	if s.GapP50.V != 0.5 || s.GapP95.V != 0.5 || s.AbsP95 != 5 {
		t.Fatalf("gaps %+v", s)
	}
	// One switch in 40 ticks of 10 s: 9 per decision-hour.
	if math.Abs(s.SwitchesPerHour-9) > 1e-9 {
		t.Fatalf("switches/h %v", s.SwitchesPerHour)
	}
	if r := rows[0].Strat[Random].Captured.V; r != 0 {
		t.Fatalf("random captures %v of itself", r)
	}
	g := rows[0].Verdict()
	if g.Median || g.P95 || !g.RandomApplies || !g.Random || !g.Tailscale || g.Flaps {
		t.Fatalf("verdict %+v", g)
	}
	line := Summary(rows)
	if !regexp.MustCompile(`^summary: median \d+/\d+ p95 \d+/\d+ random \d+/\d+ captured -?\d+%`).MatchString(line) {
		t.Fatalf("summary line %q", line)
	}
	if want := "summary: median 0/1 p95 0/1 random 1/1 captured 81%"; line[:len(want)] != want {
		t.Fatalf("summary %q, want prefix %q", line, want)
	}
}

func TestRerank(t *testing.T) {
	w := selection.DefaultWeights(selection.VoiceRelay)
	var est, wifi, wired selection.Terms
	est[selection.TermRTTEstimated] = 2 // cheapest RTT, but estimated, on battery
	est[selection.TermPower] = w.Battery
	wifi[selection.TermRTTMeasured] = 4
	wifi[selection.TermLinkType] = w.Wireless
	wired[selection.TermRTTMeasured] = 9
	ranked := []selection.Ranked{
		{ID: "est", Cost: 2 + w.Battery, Terms: est, Estimated: 1},
		{ID: "wifi", Cost: 9, Terms: wifi},
		{ID: "wired", Cost: 9.5, Terms: wired},
	}
	first := func(s Strategy) string { return rerank(s, ranked, w)[0].ID }
	for s, want := range map[Strategy]string{Tailscale: "wifi", MeasuredOnly: "wifi", WiredFirst: "wired"} {
		if got := first(s); got != want {
			t.Errorf("%v picks %s, want %s", s, got, want)
		}
	}
	if n := len(rerank(Tailscale, ranked, w)); n != 2 {
		t.Errorf("tailscale kept %d candidates, want the 2 measured", n)
	}
	// With no measured candidate at all, the estimate is all there is.
	if got := rerank(Tailscale, ranked[:1], w); len(got) != 1 {
		t.Errorf("tailscale without measurements: %v", got)
	}
}
