package relaysim

import (
	"slices"
	"strings"

	"parley/selection"
)

// Strategy is one way of choosing a relay that the evaluator scores side by side
// in the same run, on the same decisions, against the same oracle.
type Strategy int

const (
	// Selection is the protocol: Rank with the default weights through a Chooser
	// with the default hysteresis.
	Selection Strategy = iota
	// Random picks a random online candidate and keeps it while it stays online:
	// what libp2p's circuit relay and Syncthing's relay pool do on a LAN.
	Random
	// Tailscale ranks by measured RTT only and switches only when the best is
	// more than 10 ms better and below 2/3 of the current (Tailscale's DERP
	// home-region rule: tailscale/net/netcheck and magicsock's "preferred DERP").
	// A candidate counts as measured when every leg it needs is a measured link
	// (this node's own or a published one); when no candidate is, it falls back to
	// the coordinate estimates, as a node that must pick something would.
	Tailscale
	// WiredFirst takes wired, mains-powered candidates first (by what their
	// records say), then the lowest RTT: the rule of thumb an administrator
	// would write. Same hysteresis as Selection.
	WiredFirst
	// MeasuredOnly is Selection restricted to candidates whose legs are all
	// measured (falling back to every candidate when none is): what ranking
	// would do without coordinates and access shares to fill in the gaps.
	MeasuredOnly
	// RTTOnly ranks by path RTT alone (measured or estimated), through the same
	// Chooser as Selection.
	RTTOnly
	numStrategies
)

// Strategies lists every strategy in report order.
func Strategies() []Strategy {
	return []Strategy{Selection, Random, Tailscale, WiredFirst, MeasuredOnly, RTTOnly}
}

func (s Strategy) String() string {
	return [...]string{"selection", "random", "tailscale", "wired-first", "measured-only", "rtt-only"}[s]
}

// tailscaleHysteresis is Tailscale's switch rule alone: > 10 ms and < 2/3 of the
// current, no persistent-gain way out (SlowRatio 1 turns it off).
func tailscaleHysteresis() selection.Hysteresis {
	return selection.Hysteresis{MinGain: 10, Ratio: 2.0 / 3, SlowRatio: 1}
}

// wiredFirstPenalty is what WiredFirst adds per strike (wireless, battery) so that
// every wired mains candidate sorts before any other whatever its RTT (LAN RTTs
// are below 100 ms), while staying a cost the Chooser can compare.
const wiredFirstPenalty = 1000

// rerank turns Selection's ranking into strategy s's, from what the ranking
// already carries (its per-term costs and how each leg was known): no extra
// information, so every baseline sees exactly what the protocol sees.
func rerank(s Strategy, ranked []selection.Ranked, w selection.Weights) []selection.Ranked {
	out := make([]selection.Ranked, 0, len(ranked))
	measured := slices.ContainsFunc(ranked, func(r selection.Ranked) bool { return r.Estimated+r.Unknown == 0 })
	for _, r := range ranked {
		t := r.Terms
		rtt := (t[selection.TermRTTMeasured] + t[selection.TermRTTEstimated] + t[selection.TermRTTUnknown]) / w.RTT
		allMeasured := r.Estimated+r.Unknown == 0
		switch s {
		case RTTOnly:
			out = append(out, selection.Ranked{ID: r.ID, Cost: rtt})
		case Tailscale:
			if measured && !allMeasured {
				continue
			}
			out = append(out, selection.Ranked{ID: r.ID, Cost: rtt})
		case WiredFirst:
			c := rtt
			if t[selection.TermLinkType] > 0 {
				c += wiredFirstPenalty
			}
			if t[selection.TermPower] > 0 {
				c += wiredFirstPenalty
			}
			out = append(out, selection.Ranked{ID: r.ID, Cost: c})
		case MeasuredOnly:
			if measured && !allMeasured {
				continue
			}
			out = append(out, r)
		}
	}
	// (cost, ID) pairs are unique, so an unstable sort is deterministic.
	slices.SortFunc(out, func(a, b selection.Ranked) int {
		if c := cmpF(a.Cost, b.Cost); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
