package linkquality

import (
	"time"

	"parley/selection"
)

// selfReadEvery is how often this node folds a reading of its own spare bandwidth
// and CPU load into its SelfEstimator: every 5 s, the period the estimator's gain
// was chosen for (1/8 per reading, about 40 s) and the one the simulator reads at
// (relaysim's Probe period), so the node publishes what the simulator's peers do
// (docs/relay-selection.md, "Node and simulator"). Measuring more often (Run ticks
// every second, a ranking asks for fresh figures) reads the same estimate.
const selfReadEvery = 5 * time.Second

// smoothSelf replaces m's spare bandwidth and CPU load by their smoothed values,
// folding in the reading now when one is due. The CPU reading is the load since the
// previous fold (a 5 s average, not the last second's). Until a link has been
// probed the spare bandwidth is unknown (0 on the wire); nothing is folded then, so
// an unknown is never averaged in as "no capacity" and the first probe counts whole.
// TestSelfReadingsSmoothed pins the gains.
func (q *Monitor) smoothSelf(m *selection.SelfMetrics, now time.Time, total, idle uint64, ok bool) {
	if m.SpareUpKbps == 0 && m.SpareDownKbps == 0 {
		return
	}
	if q.selfAt.IsZero() || now.Sub(q.selfAt) >= selfReadEvery {
		cpu := q.selfCPU.update(total, idle, ok)
		if q.selfAt.IsZero() {
			cpu = float64(m.CPULoad) // no earlier fold to average from
		}
		q.self.Observe(float64(m.SpareUpKbps), float64(m.SpareDownKbps), cpu)
		q.selfAt = now
	}
	q.self.Apply(m)
}
