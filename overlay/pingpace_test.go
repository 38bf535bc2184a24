package overlay

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// A node with more links than pingBudget pings each of them less often, so its
// pings in all stay near the budget, and the longer silence it then allows does
// not end links that are merely quiet; one with few links pings each every second.
func TestPingPaceFollowsLinkCount(t *testing.T) {
	for _, peers := range []int{4, 2 * pingBudget} {
		t.Run(fmt.Sprintf("%d links", peers), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := newMemNet()
				hub := startMemNode(t, n, 1, "hub", nil)
				for i := range peers {
					linkBoth(t, hub, startMemNode(t, n, byte(10+i), fmt.Sprintf("p%d", i), nil))
				}
				synctest.Wait()
				before := hub.ov.Stats()["ping_sent"]
				const window = 40 * time.Second
				time.Sleep(window)
				sent := float64(hub.ov.Stats()["ping_sent"] - before)
				perLink := sent / float64(peers) / window.Seconds()
				want := 1 / max(1, float64(peers)/pingBudget)
				if perLink < 0.9*want || perLink > 1.1*want {
					t.Errorf("%d links: %.2f pings a second per link, want %.2f", peers, perLink, want)
				}
				if got := len(hub.ov.Links()); got != peers {
					t.Errorf("%d links left of %d after %v at that pace", got, peers, window)
				}
				if to := hub.ov.Stats()["link_timeout"]; to != 0 {
					t.Errorf("%d links timed out", to)
				}
			})
		})
	}
}
