package relaysim

import (
	"fmt"
	"math"
	"strings"

	"parley/selection"
)

// Table formats results as the markdown table docs/relay-selection.md carries.
func Table(results []Result) string {
	var b strings.Builder
	b.WriteString("| topology | peers | purpose | gap p50 | gap p95 | RTT-only gap p50 / p95 | vs random | vs RTT-only | switches/h (forced) | Vivaldi err p50 | publish B/s per peer (out / in) |\n")
	b.WriteString("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		for _, p := range r.Purposes {
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s / %s | %s | %s | %.2f (%.2f) | %s | %.1f / %.0f |\n",
				r.Config.Topology, r.Config.Peers, p.Purpose,
				pct(p.GapP50), pct(p.GapP95), pct(p.RTTOnlyGapP50), pct(p.RTTOnlyGapP95),
				pct(p.VsRandom), pct(p.VsRTTOnly), p.SwitchesPerHour, p.ForcedPerHour,
				pct(r.VivaldiErr), r.PublishOut, r.PublishIn)
		}
	}
	return b.String()
}

// MeasurementTable details the measurement side per run.
func MeasurementTable(results []Result) string {
	var b strings.Builder
	b.WriteString("| topology | peers | Vivaldi err p50 / p95 | records per peer-hour | mean extension bytes | publish out B/s | publish in B/s | probes B/s |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %d | %s / %s | %.1f | %.0f | %.1f | %.0f | %.0f |\n",
			r.Config.Topology, r.Config.Peers, pct(r.VivaldiErr), pct(r.VivaldiErrP95),
			r.PublishesPerHour, r.MeanRecordBytes, r.PublishOut, r.PublishIn, r.Probe)
	}
	return b.String()
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", 100*v)
}

// DiagnosticsTable separates estimation error from hysteresis, and shows the scale.
func DiagnosticsTable(results []Result) string {
	var b strings.Builder
	b.WriteString("| topology | peers | purpose | oracle cost p50 (ms) | gap p50 / p95 (ms) | without hysteresis: gap p50 / p95, switches/h | oracle vs random | samples |\n")
	b.WriteString("|---|---:|---|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		for _, p := range r.Purposes {
			fmt.Fprintf(&b, "| %s | %d | %s | %.1f | %.1f / %.1f | %s / %s, %.1f | %s | %d |\n",
				r.Config.Topology, r.Config.Peers, p.Purpose, p.OracleP50, p.AbsGapP50, p.AbsGapP95,
				pct(p.InstantGapP50), pct(p.InstantGapP95), p.UnhystereticPerHour, pct(p.OracleVsRandom), p.Samples)
		}
	}
	return b.String()
}

// Goals counts the rows meeting each of the targets (median gap ≤ 10 %, p95
// gap ≤ 25 %, ≥ 30 % better than random) and gives the switch rates' range, for
// interactive (chat, voice, mixer) and bulk decisions apart. It is the one-line
// summary used to compare hysteresis rules.
func Goals(results []Result) string {
	var rows, p50, p95, rnd, reachable int
	lo, hi := [2]float64{math.Inf(1), math.Inf(1)}, [2]float64{math.Inf(-1), math.Inf(-1)}
	for _, r := range results {
		for _, p := range r.Purposes {
			rows++
			if p.GapP50 <= 0.10 {
				p50++
			}
			if p.GapP95 <= 0.25 {
				p95++
			}
			if p.VsRandom >= 0.30 {
				rnd++
			}
			if p.OracleVsRandom >= 0.30 {
				reachable++
			}
			k := 0
			if p.Purpose == selection.BulkTransfer {
				k = 1
			}
			lo[k], hi[k] = math.Min(lo[k], p.SwitchesPerHour), math.Max(hi[k], p.SwitchesPerHour)
		}
	}
	return fmt.Sprintf("Goals met (of %d rows): gap p50 ≤ 10 %%: %d; gap p95 ≤ 25 %%: %d; ≥ 30 %% better than random: %d (the oracle itself is in %d). Switches/h: chat/voice/mixer %.2f–%.2f, bulk %.2f–%.2f.\n",
		rows, p50, p95, rnd, reachable, lo[0], hi[0], lo[1], hi[1])
}
