package relaysim

import (
	"math"

	"parley/selection"
)

// Bulk transfer, as the node uses the ranking (node/files.go, files/schedule.go):
// a download ranks its sources (every candidate is assumed to hold the file) on
// the one leg source → requester, when a source is added; the first gets the
// larger opening window, and from then on the sources are ordered by the rate
// they deliver, not re-ranked. Nothing switches on a ranking later, so a
// hysteresis would have nothing to hold: the simulator keeps each strategy's first
// pick for the session (a pick that goes offline is replaced, as a dropped source
// is), and bulk rows count no flaps by construction. The node picks no relay for
// bulk (chunks travel on the direct link, or routed through the overlay), so the
// two-leg "bulk relay" this simulator scored before modelled nothing a node does.

// holdHysteresis never leaves a choice that is still ranked.
func holdHysteresis() selection.Hysteresis {
	return selection.Hysteresis{MinGain: math.Inf(1), SlowRatio: 1}
}

// chooser is strategy s's Chooser for purpose p.
func (ev *evaluator) chooser(p selection.Purpose, s Strategy) *selection.Chooser {
	if p == selection.BulkTransfer {
		return ev.hold[s]
	}
	return ev.ch[s]
}
