package itest

import (
	"testing"
	"time"
)

// TestFarPingAcrossSegments: A (segment 1) and C (segment 2) share no segment, so
// no link; B is on both. A's far pings for its network coordinate reach C through
// B and C's pongs come back (linkquality/farping.go): A folds a sample, C answered.
// The first sample is due 5–15 s after start (two peers online) and takes three
// pings a second apart.
func TestFarPingAcrossSegments(t *testing.T) {
	c := newCluster(t)
	seg2, err := c.lab.AddSegment("lan2")
	if err != nil {
		t.Fatal(err)
	}
	ha, hb, hc := c.host("a", c.seg), c.host("b", c.seg, seg2), c.host("c", seg2)
	a := c.start(ha, "a")
	b := c.start(hb, "b")
	cc := c.start(hc, "c")
	a.waitPeerUp(15*time.Second, b, cc)
	if l := a.links(); l[cc.id] != nil {
		t.Fatalf("a and c share no segment yet have a direct link: %v", l)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ca, cb, cc := a.counters(), b.counters(), cc.counters()
		if ca["farping_samples"] >= 1 && cc["farping_answered"] >= 1 {
			if cb["route_forwarded"] < 2 {
				t.Fatalf("the far pings did not go through b: route_forwarded %v", cb["route_forwarded"])
			}
			t.Logf("a: sent %v samples %v timeouts %v; c answered %v", ca["farping_sent"], ca["farping_samples"], ca["farping_timeout"], cc["farping_answered"])
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no far sample in 60 s: a %v / c answered %v dropped %v", ca, cc["farping_answered"], cc["farping_answer_dropped"])
		}
		time.Sleep(time.Second)
	}
}
