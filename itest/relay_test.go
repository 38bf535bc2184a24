package itest

import (
	"testing"
	"time"

	"parley/internal/netlab"
	parleynode "parley/node"
)

// TestRelayChoiceFollowsShaping: A (segment 1) and C (segment 2) can only reach each
// other through R1 or R2, both on both segments. R1's links are shaped with tbf to
// 256 kbit/s: the voice relay A chooses is R2. Swap the shaping: after the hysteresis
// the choice moves to R1, and only once.
func TestRelayChoiceFollowsShaping(t *testing.T) {
	c := newCluster(t)
	seg2, err := c.lab.AddSegment("lan2")
	if err != nil {
		t.Fatal(err)
	}
	ha, hc := c.host("a", c.seg), c.host("c", seg2)
	h1, h2 := c.host("r1", c.seg, seg2), c.host("r2", c.seg, seg2)
	for _, s := range []*netlab.Segment{c.seg, seg2} {
		if err := h1.Shape(s, "256kbit"); err != nil {
			t.Fatal(err)
		}
	}
	flags := []string{"--probe-interval", "3s", "--quality-interval", "2s", "--power", "mains"}
	a := c.start(ha, "a", flags...)
	r1 := c.start(h1, "r1", flags...)
	r2 := c.start(h2, "r2", flags...)
	cc := c.start(hc, "c", flags...)
	a.waitPeerUp(20*time.Second, r1, r2, cc)

	relays := func() (chosen string, switched bool, costs map[string]float64) {
		choice := must(a.Relays("voice", cc.id)).on(a)
		costs = map[string]float64{}
		for _, r := range choice.Ranking {
			costs[r.ID] = r.Cost
		}
		return choice.Chosen, choice.Switched, costs
	}
	// Both candidates ranked, the shaped one clearly worse: the spare bandwidth R1
	// publishes after probing its shaped links makes the difference.
	var costs map[string]float64
	eventually(t, 60*time.Second, "r2 chosen with r1 ranked clearly worse", func() bool {
		var chosen string
		chosen, _, costs = relays()
		return chosen == r2.id && costs[r1.id] > costs[r2.id]+10
	})
	t.Logf("shaped r1: costs r1=%.1f r2=%.1f", costs[r1.id], costs[r2.id])
	// r1's probes push 64 KiB bursts through a queue of 400 ms at 256 kbit: TCP
	// overflows it, and the kernel's retransmission counter, which the node reads
	// as the link's loss, must see it.
	var sent, retrans float64
	eventually(t, 30*time.Second, "r1's shaped links to count retransmissions", func() bool {
		sent, retrans = 0, 0
		for _, l := range must(r1.Links()).on(r1) {
			sent, retrans = sent+float64(l.Quality.SegsSent), retrans+float64(l.Quality.SegsRetrans)
		}
		return retrans > 0
	})
	t.Logf("r1 links: %v segments sent, %v retransmitted", sent, retrans)
	// What made r1 worse reached a as an event: r1's figures, as published after
	// its probes, in a peer_quality event - or in a peer_up, when a shaped link of
	// r1's timed out under a probe's burst and r1 came back online with them (one
	// run in about six; r1's link_timeout counter says so).
	if _, err := a.WaitEventAny(10*time.Second, func(e netlab.Event) bool {
		if pq, ok := netlab.As[parleynode.QualityChanged](e); ok {
			return pq.Peer.ID == r1.id && pq.Peer.Quality != nil && pq.Peer.Quality.Power == "mains"
		}
		up, ok := netlab.As[parleynode.PeerUp](e)
		return ok && up.Peer.ID == r1.id && up.Peer.Quality != nil && up.Peer.Quality.Power == "mains" && up.Peer.Quality.SpareUpKbps > 0
	}); err != nil {
		t.Errorf("no peer_quality or peer_up event for r1 with its published figures: %v", err)
	}

	// Swap the shaping.
	for _, s := range []*netlab.Segment{c.seg, seg2} {
		if err := h1.Shape(s, ""); err != nil {
			t.Fatal(err)
		}
		if err := h2.Shape(s, "256kbit"); err != nil {
			t.Fatal(err)
		}
	}
	switches := 0
	eventually(t, 90*time.Second, "the choice to move to r1", func() bool {
		chosen, switched, _ := relays()
		if switched {
			switches++
		}
		return chosen == r1.id
	})
	// It stays there: no flapping back while the measurements keep coming.
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		chosen, switched, costs := relays()
		if switched {
			switches++
		}
		if chosen != r1.id {
			t.Fatalf("choice flapped back to %s (costs %v)", chosen, costs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if switches != 1 {
		t.Fatalf("the choice switched %d times after the swap, want exactly 1", switches)
	}
	_, _, costs = relays()
	t.Logf("after the swap: costs r1=%.1f r2=%.1f", costs[r1.id], costs[r2.id])
	// The roster carries what r1 publishes about its links and machine.
	if p := a.roster()[r1.id]; p == nil || p.Quality == nil || p.Quality.SpareUpKbps < 1000 || p.Quality.Power != "mains" {
		t.Fatalf("r1's published quality in a's roster: %+v", p)
	}
}
