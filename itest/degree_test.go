package itest

import (
	"fmt"
	"testing"
	"time"

	"parley/internal/netlab"
)

// TestLargeLANBoundsDialDegree: 40 nodes on one segment, started together, every
// one hearing every other's start-up beacons at once. Each node opens at most 32
// links itself (it accepts those others open), yet every node learns every other
// from the records flooded over the overlay. Before discovery shared the dial
// budget, a node dialled every peer it heard with a higher ID than its own, so the
// lowest IDs opened a link to nearly all 39.
func TestLargeLANBoundsDialDegree(t *testing.T) {
	const count, maxOwn = 40, 32 // maxOwn is node.maxDialDegree
	c := newPlainCluster(t)
	hosts, names := make([]*netlab.Host, count), make([]string, count)
	for i := range hosts {
		names[i] = fmt.Sprintf("n%02d", i)
		hosts[i] = c.host(names[i])
	}
	nodes := c.startAll(hosts, names, "--log-level", "info")
	eventually(t, 90*time.Second, "every node knows every other online", func() bool {
		for _, n := range nodes {
			online := 0
			for _, p := range n.roster() {
				if p["online"] == true {
					online++
				}
			}
			if online < count-1 {
				return false
			}
		}
		return true
	})
	most, total, over := 0, 0, 0
	for _, n := range nodes {
		own := 0
		links := n.links()
		for _, l := range links {
			if l["outbound"] == true {
				own++
			}
		}
		total += len(links)
		most = max(most, own)
		if own > maxOwn {
			over++
			t.Errorf("%s opened %d links itself (at most %d)", n.name, own, maxOwn)
		}
		if len(links) == 0 {
			t.Errorf("%s has no link", n.name)
		}
	}
	deferred := 0.0
	for _, n := range nodes {
		deferred += n.counters()["dial_budget_full"]
	}
	t.Logf("%d nodes: at most %d links opened by one node, %.1f links per node, %d nodes over budget, %.0f discovered peers left to the roster",
		count, most, float64(total)/count, over, deferred)
}
