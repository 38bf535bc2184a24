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
// from the records flooded over the overlay, and once settled a record costs one
// full copy per node, not one per link. Before discovery shared the dial budget, a
// node dialled every peer it heard with a higher ID than its own, so the lowest IDs
// opened a link to nearly all 39.
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
				if p.Online {
					online++
				}
			}
			if online < count-1 {
				return false
			}
		}
		return true
	})
	// Idle for 30 s, after 30 s more to settle: what records cost in a quiet overlay
	// (here each node took in 24–42 records in such a window). Flooding in full
	// delivered every record once per link (37 full copies per record accepted; the
	// links' receive rates summed to 88 kB/s per node after two idle minutes), lazy
	// push one full copy and references for the rest. While links still come up, a
	// record lists fewer neighbours than its author has, and those not listed get it
	// in full from up to three forwarders each (3.5 copies a record in the first 30 s).
	time.Sleep(30 * time.Second)
	before := make([]map[string]float64, count)
	for i, n := range nodes {
		before[i] = n.counters()
	}
	time.Sleep(30 * time.Second)
	var accepted, duplicate, rx float64
	for i, n := range nodes {
		after := n.counters()
		accepted += after["record_accepted"] - before[i]["record_accepted"]
		duplicate += after["record_duplicate"] - before[i]["record_duplicate"]
		for _, l := range n.links() {
			rx += l.Quality.RxBps
		}
	}
	t.Logf("idle 30 s: %.1f records accepted per node, %.2f full copies per record accepted, %.0f B/s received per node (links' rx_bps)",
		accepted/count, (accepted+duplicate)/max(accepted, 1), rx/count)
	if accepted == 0 {
		t.Error("no record was republished in 30 s")
	}
	if duplicate > accepted/2 {
		t.Errorf("%.0f duplicate full copies for %.0f records accepted: records flood in full again", duplicate, accepted)
	}

	most, total, over := 0, 0, 0
	for _, n := range nodes {
		own := 0
		links := n.links()
		for _, l := range links {
			if l.Outbound {
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
