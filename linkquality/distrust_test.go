package linkquality

import (
	"testing"

	"parley/overlay"
	"parley/selection"
	"parley/vivaldi"
)

// A peer that claims a clean link to us while we lose 10 % on it loses its
// published links from our picture; one whose claim is close to ours keeps them.
// A claimed spare download far above what our probe got through to it, while our
// best link reads far more, is cut to our reading; unless the link's round trip
// caps what a burst can read (a fast peer that is far).
func TestCrossCheckDiscountsClaims(t *testing.T) {
	q, ov, _, _ := newFake(t, Config{})
	self := q.cfg.Self
	claim := func(loss float32, spareDown uint32) *overlay.Record {
		rec := farRecord(t, vivaldi.Coord{X: 1, Error: 0.2})
		b, err := selection.EncodeSelf(selection.SelfMetrics{
			SpareUpKbps: 50_000, SpareDownKbps: spareDown, Coord: vivaldi.Coord{X: 1, Error: 0.2},
			Links: []selection.LinkMetric{{Peer: self, RTT: 2e6, Loss: loss}},
		})
		if err != nil {
			t.Fatal(err)
		}
		rec.Extensions[0].Value = b
		return rec
	}
	liar, honest := claim(0, 100_000), claim(0.09, 100_000)
	ov.all = []*overlay.Record{liar, honest}
	for _, rec := range ov.all {
		e := &selection.LinkEstimator{}
		e.AddRTT(2e6)
		if rec == honest {
			e.AddRTT(18e6) // 10 ms on average: a burst reads at most 26 Mbit/s
		}
		e.AddLoss(100, 1000) // we lose 10 % to both
		q.est[rec.ID()] = e
	}
	q.upBps[peer(1)] = 100e6    // our best link
	q.upBps[liar.ID()] = 1e6    // our probe got 1 Mbit/s through to the liar
	q.upBps[honest.ID()] = 20e6 // and 20 to the far honest one
	g := q.Graph()
	from := map[string]int{}
	for _, l := range g.Links {
		from[l.A]++
	}
	if from[liar.ID().String()] != 0 || from[honest.ID().String()] != 1 {
		t.Fatalf("links published by the liar %d (want 0), by the honest peer %d (want 1)", from[liar.ID().String()], from[honest.ID().String()])
	}
	if got := g.Peers[liar.ID().String()].SpareDownKbps; got != 1000 {
		t.Fatalf("liar's spare download %d kbit/s, want our reading 1000", got)
	}
	if got := g.Peers[honest.ID().String()].SpareDownKbps; got != 100_000 {
		t.Fatalf("honest peer's spare download cut to %d", got)
	}
	if st := q.Stats(); st["claims_discounted_loss"] != 1 || st["claims_discounted_spare"] != 1 {
		t.Fatalf("stats %v", st)
	}
}
