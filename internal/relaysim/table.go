package relaysim

import (
	"fmt"
	"math"
	"strings"
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
