package linkquality

import (
	"math/rand/v2"
	"testing"
	"time"

	"parley/identity"
	"parley/overlay"
	"parley/selection"
)

// BenchmarkEdgeCostPass is one graph pass's edge costs at the overlay's edge
// budget (262,144 listings): 4,096 records each publishing 64 measured links,
// the most a pass reads per record at the cap. An attacker chooses what its
// records publish, so this is the pass cost it can force.
func BenchmarkEdgeCostPass(b *testing.B) {
	const records, links = 4096, 64
	ids := make([]identity.PeerID, records)
	for i := range ids {
		ids[i][0], ids[i][1], ids[i][15] = byte(i), byte(i>>8), 1
	}
	recs := make([]*overlay.Record, records)
	for i := range recs {
		m := selection.SelfMetrics{}
		for k := range links {
			m.Links = append(m.Links, selection.LinkMetric{Peer: ids[(i+k+1)%records], RTT: time.Millisecond, Loss: 0.01})
		}
		v, err := selection.EncodeSelf(m)
		if err != nil {
			b.Fatal(err)
		}
		recs[i] = &overlay.Record{Seq: 1, Extensions: []overlay.Extension{{Type: selection.ExtensionType, Value: v}}}
	}
	pass := func(b *testing.B, cost func(u, v identity.PeerID, ru, rv *overlay.Record, rtt time.Duration) time.Duration) {
		for range b.N {
			for i := range records {
				for k := range links {
					j := (i + k + 1) % records
					cost(ids[i], ids[j], recs[i], recs[j], time.Millisecond)
				}
			}
		}
	}
	// The floor it is judged against: decoding every record on every edge.
	b.Run("decode-per-edge", func(b *testing.B) { pass(b, edgeCost) })
	b.Run("cached", func(b *testing.B) { pass(b, NewEdgeCoster().Cost) })
}

// The cache changes the cost of nothing: over records listing a peer or not,
// or without figures, cost equals edgeCost's for every pair, and a
// cache that starts again still answers the same.
func TestEdgeCosterMatchesEdgeCost(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]identity.PeerID, 12)
	for i := range ids {
		ids[i][0], ids[i][15] = byte(i), 7
	}
	recs := []*overlay.Record{nil, {Seq: 1}} // none, and one without the extension
	for range 10 {
		var m selection.SelfMetrics
		for _, k := range rng.Perm(len(ids))[:rng.IntN(8)] {
			m.Links = append(m.Links, selection.LinkMetric{
				Peer:   ids[k],
				RTTVar: time.Duration(rng.IntN(5000)) * time.Microsecond,
				Jitter: time.Duration(rng.IntN(5000)) * time.Microsecond,
				Loss:   float32(rng.IntN(1000)) / 10000,
			})
		}
		v, err := selection.EncodeSelf(m)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &overlay.Record{Seq: 1, Extensions: []overlay.Extension{{Type: selection.ExtensionType, Value: v}}})
	}
	c := NewEdgeCoster()
	for round := range 2 {
		for _, u := range ids {
			for _, v := range ids {
				ru, rv := recs[rng.IntN(len(recs))], recs[rng.IntN(len(recs))]
				if got, want := c.Cost(u, v, ru, rv, 3*time.Millisecond), edgeCost(u, v, ru, rv, 3*time.Millisecond); got != want {
					t.Fatalf("round %d: cost %v, edgeCost %v", round, got, want)
				}
			}
		}
		c.held = edgeCacheFigures // the next decode starts the cache again
	}
}
