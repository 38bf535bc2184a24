package relaysim

import (
	"slices"
	"testing"

	"parley/selection"
)

// TestRTTOnlyMatchesRank: the evaluator's shortcut must be the RTT-only baseline.
func TestRTTOnlyMatchesRank(t *testing.T) {
	w := testWorld(t, WiFiCells, 60)
	for range 40 {
		if err := w.probe(false); err != nil {
			t.Fatal(err)
		}
	}
	g := w.graph()
	for _, p := range selection.Purposes() {
		ends := w.pickEndpoints(p)
		req := selection.Request{Purpose: p, From: ends[0].id}
		for _, e := range ends[1:] {
			req.To = append(req.To, e.id)
		}
		gg := g.WithOwn(w.ownLinks(ends[0]))
		got := rttOnly(selection.Rank(gg, req, selection.DefaultWeights(p), nil), selection.DefaultWeights(p))
		want := selection.Rank(gg, req, selection.RTTOnlyWeights(), nil)
		ids := func(r []selection.Ranked) []string {
			var out []string
			for _, x := range r {
				out = append(out, x.ID)
			}
			return out
		}
		if !slices.Equal(ids(got), ids(want)) {
			t.Fatalf("%v: shortcut order differs from Rank(RTTOnlyWeights)", p)
		}
		for i := range got {
			if d := got[i].Cost - want[i].Cost; d > 1e-9 || d < -1e-9 {
				t.Fatalf("%v: %s cost %v vs %v", p, got[i].ID, got[i].Cost, want[i].Cost)
			}
		}
	}
}
