package selection

import (
	"math"
	"testing"
)

// TestModelSwitches: the simulator's model switches turn off exactly what they
// name, and the zero value is the protocol.
func TestModelSwitches(t *testing.T) {
	// Floor: as in TestRankFloorsEstimatesAtTypicalPaths, x–b reads 1 ms by
	// coordinates, 12 with the floor.
	peers := []PeerInfo{peer("a", at(0, 0, 0.5)), peer("b", at(1, 0, 0.5)), peer("x", at(2, 0, 0.5))}
	ns := []string{"n1", "n2", "n3"}
	var links []LinkInfo
	for i, n := range ns {
		peers = append(peers, peer(n))
		links = append(links, link("a", n, 10, 0, 0, 0.02), link("b", n, 10, 0, 0, 0.02), link("x", n, 10, 0, 0, 0.02))
		for _, m := range ns[i+1:] {
			links = append(links, link(n, m, 10, 0, 0, 0))
		}
	}
	links = append(links, link("a", "x", 10, 0, 0, 0))
	g := graph(peers, links...)
	req := Request{Purpose: ChatForward, From: "a", To: []string{"b"}, Candidates: []string{"x"}}
	rank := func(w Weights) Ranked { return Rank(g, req, w, nil)[0] }
	w := Weights{RTT: 1, LossMs: 1}
	full := rank(w)
	if got := full.Terms[TermRTTEstimated]; math.Abs(got-12) > 1e-9 {
		t.Fatalf("protocol: x–b estimated at %.2f ms, want the floor, 12", got)
	}
	if full.Terms[TermLoss] < 1 {
		t.Fatalf("protocol: loss term %.2f, want the shares' 2 %% on x–b and half of it on a–x", full.Terms[TermLoss])
	}
	w.NoFloor = true
	noFloor := rank(w)
	if got := noFloor.Terms[TermRTTEstimated]; math.Abs(got-2) > 1e-9 {
		t.Fatalf("NoFloor: x–b estimated at %.2f ms, want the coordinates' 2", got)
	}
	if noFloor.Terms[TermLoss] != full.Terms[TermLoss] {
		t.Fatal("NoFloor changed the loss estimate")
	}
	w.NoFloor, w.NoAccessShares = false, true
	noShares := rank(w)
	if got := noShares.Terms[TermRTTEstimated]; math.Abs(got-2) > 1e-9 || noShares.Terms[TermLoss] != 0 {
		t.Fatalf("NoAccessShares: estimated %.2f ms, loss term %.2f; want 2 ms and no loss", got, noShares.Terms[TermLoss])
	}
}
