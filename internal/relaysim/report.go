package relaysim

import (
	"fmt"
	"math"
	"strings"

	"parley/selection"
)

// RowsTable formats the aggregated rows with their intervals and goal verdicts
// (docs/relay-selection.md, "Results").
func RowsTable(rows []Row) string {
	var b strings.Builder
	b.WriteString("| topology | peers | purpose | sessions | gap p50 [95 % CI] | gap p95 [95 % CI] | gap p50 / p95 (ms) | R lost p50 / p95 | vs random | oracle vs random | captured [95 % CI] | switches/h | goals missed |\n")
	b.WriteString("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		s := r.Strat[Selection]
		fmt.Fprintf(&b, "| %s | %d | %s | %d | %s | %s | %.2f / %.2f | %s | %s | %s | %s | %.2f | %s |\n",
			r.Topology, r.Peers, r.Purpose, r.Sessions, s.GapP50.pct(), s.GapP95.pct(),
			s.AbsP50, s.AbsP95, rPair(s), pct(s.VsRandom), pct(r.OracleVsRandom), s.Captured.pct(),
			s.SwitchesPerHour, missed(r))
	}
	return b.String()
}

func rPair(s StrategyStats) string {
	if math.IsNaN(s.RLossP50) {
		return "–"
	}
	return fmt.Sprintf("%.2f / %.2f", s.RLossP50, s.RLossP95)
}

// missed names the goals the row misses: median, p95, random (only where the
// oracle is ≥ 40 % better than random), tailscale, flaps.
func missed(r Row) string {
	g := r.Verdict()
	var out []string
	if !g.Median {
		out = append(out, "median")
	}
	if !g.P95 {
		out = append(out, "p95")
	}
	if g.RandomApplies && !g.Random {
		out = append(out, "random")
	}
	if !g.Tailscale {
		out = append(out, "tailscale")
	}
	if !g.Flaps {
		out = append(out, "flaps")
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// BaselinesTable compares every strategy per row: the share of the oracle's
// advantage over random it captures, its p95 gap to the oracle in ms-equivalent
// (and, for voice, in E-model points), and how often it switches.
func BaselinesTable(rows []Row) string {
	var b strings.Builder
	b.WriteString("| topology | peers | purpose | oracle p50 (ms) |")
	order := []Strategy{Selection, Tailscale, WiredFirst, MeasuredOnly, RTTOnly, Random}
	for _, s := range order {
		fmt.Fprintf(&b, " %s |", s)
	}
	b.WriteString("\n|---|---:|---|---:|")
	for range order {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %s | %.1f |", r.Topology, r.Peers, r.Purpose, r.OracleP50)
		voice := r.Purpose == selection.VoiceRelay || r.Purpose == selection.CallMixer
		for _, st := range order {
			s := r.Strat[st]
			fmt.Fprintf(&b, " %.0f %% · %.1f ms", 100*s.Captured.V, s.AbsP95)
			if voice {
				fmt.Fprintf(&b, " · %.2f R", s.RLossP95)
			}
			fmt.Fprintf(&b, " · %.1f/h |", s.SwitchesPerHour)
		}
		b.WriteString("\n")
	}
	return b.String()
}
