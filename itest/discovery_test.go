package itest

import (
	"fmt"
	"testing"
	"time"
)

// TestDiscoveryModes: four hosts on one segment find each other with mDNS alone, with
// beacons alone and with both, and every pair ends up with a direct link (which only
// discovery, not record gossip, creates).
func TestDiscoveryModes(t *testing.T) {
	for _, mode := range []string{"mdns", "beacon", "both"} {
		t.Run(mode, func(t *testing.T) {
			c := newCluster(t)
			var nodes []*node
			for i := 1; i <= 4; i++ {
				h := c.host(fmt.Sprintf("h%d", i))
				nodes = append(nodes, c.start(h, fmt.Sprintf("n%d", i), "--discovery", mode))
			}
			for _, n := range nodes {
				n.waitPeerUp(15*time.Second, nodes...)
			}
			for _, n := range nodes {
				eventually(t, 10*time.Second, n.name+" linked directly to all", func() bool {
					return len(n.links()) == len(nodes)-1
				})
				roster := n.roster()
				for _, o := range nodes {
					if o == n {
						continue
					}
					p := roster[o.id]
					if p == nil || !p.Online || p.Name != o.name {
						t.Fatalf("%s roster entry for %s: %v", n.name, o.name, p)
					}
				}
				// A node's own browse may run before the others exist; later queries
				// (1 s, 2 s, … backoff) must find them.
				eventually(t, 10*time.Second, n.name+" counters for mode "+mode, func() bool {
					ctr := n.counters()
					switch mode {
					case "mdns":
						return ctr["mdns_accepted"] > 0 && ctr["beacon_received"] == 0
					case "beacon":
						return ctr["beacon_accepted"] > 0 && ctr["mdns_received"] == 0
					}
					return ctr["beacon_accepted"] > 0 && ctr["mdns_accepted"] > 0
				})
			}
		})
	}
}
