package linkquality

import (
	"math"
	"testing"
	"time"

	"parley/identity"
)

func repPeer(t *testing.T, i int) identity.PeerID {
	t.Helper()
	var id identity.PeerID
	id[0], id[1] = byte(i), byte(i>>8)
	return id
}

// TestReputationDecays: one failure scores 1, halves every ReputationHalfLife, and is
// forgotten; repeated failures add up to the cap.
func TestReputationDecays(t *testing.T) {
	r := NewReputation()
	p := repPeer(t, 1)
	t0 := time.Unix(1_000_000, 0)
	if got := r.Score(p, t0); got != 0 {
		t.Fatalf("never failed: score %v", got)
	}
	r.Fail(p, t0)
	if got := r.Score(p, t0); got != 1 {
		t.Fatalf("one failure: score %v, want 1", got)
	}
	if got := r.Score(p, t0.Add(ReputationHalfLife)); math.Abs(got-0.5) > 1e-9 {
		t.Fatalf("after one half-life: %v, want 0.5", got)
	}
	r.Fail(p, t0.Add(ReputationHalfLife))
	if got := r.Score(p, t0.Add(ReputationHalfLife)); math.Abs(got-1.5) > 1e-9 {
		t.Fatalf("second failure a half-life later: %v, want 1.5", got)
	}
	if got := r.Score(p, t0.Add(20*ReputationHalfLife)); got != 0 || r.Len() != 0 {
		t.Fatalf("20 half-lives later: score %v, %d peers held; want forgotten", got, r.Len())
	}
	for range 100 {
		r.Fail(p, t0)
	}
	if got := r.Score(p, t0); got != maxFailScore {
		t.Fatalf("100 failures at once: %v, want the cap %v", got, float64(maxFailScore))
	}
}

// TestReputationIsBounded: more failing peers than the cap keep the table at the cap,
// evicting the least-failed, never the worst.
func TestReputationIsBounded(t *testing.T) {
	r := NewReputation()
	t0 := time.Unix(1_000_000, 0)
	bad := repPeer(t, 0)
	for range 5 {
		r.Fail(bad, t0)
	}
	evictions := 0
	for i := 1; i <= 3*maxReputationPeers; i++ {
		if r.Fail(repPeer(t, i), t0.Add(time.Duration(i)*time.Second)) {
			evictions++
		}
	}
	if r.Len() != maxReputationPeers {
		t.Fatalf("%d peers held, want the cap %d", r.Len(), maxReputationPeers)
	}
	if evictions != 2*maxReputationPeers+1 {
		t.Fatalf("%d evictions, want %d", evictions, 2*maxReputationPeers+1)
	}
	end := 3 * maxReputationPeers * time.Second
	want := 5 * math.Exp2(-end.Seconds()/ReputationHalfLife.Seconds())
	if got := r.Score(bad, t0.Add(end)); math.Abs(got-want) > 1e-9 {
		t.Fatalf("the worst peer's score %v, want %v: evicted or lost", got, want)
	}
}

// TestMonitorCarriesFailuresIntoTheGraph: a failure recorded on the monitor reaches
// Rank as the peer's Failures, decays on the monitor's clock, and is counted.
func TestMonitorCarriesFailuresIntoTheGraph(t *testing.T) {
	q, _, now, far := farMonitor(t)
	q.Failed(far, "relay_ask")
	if got := q.Graph().Peers[far.String()].Failures; got != 1 {
		t.Fatalf("failures in the graph: %v, want 1", got)
	}
	*now = now.Add(ReputationHalfLife)
	if got := q.Graph().Peers[far.String()].Failures; math.Abs(float64(got)-0.5) > 1e-6 {
		t.Fatalf("a half-life later: %v, want 0.5", got)
	}
	if n := q.Stats()["reputation_relay_ask"]; n != 1 {
		t.Fatalf("reputation_relay_ask = %d, want 1", n)
	}
}
