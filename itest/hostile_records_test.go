package itest

import (
	"context"
	"testing"
	"time"

	"parley/internal/hostile"
	"parley/internal/netlab"
	"parley/overlay"
)

// TestHostileRecordFloodNewcomer: a hostile host links to one honest node and
// floods it with 10,000 validly signed records of fresh identities, 511 of them
// wired into the graph behind it (online as far as anyone can tell), more than
// the 4,096-record table of every honest node it reaches. A peer that starts
// afterwards must be online at every honest node and reachable by a message
// within 5 s (issue 16). The newcomer is on a second segment that only n3
// shares, so n1 and n2 take its record from n3 without a link of their own: it
// gets in on rank, not on the room reserved for linked peers. Before the table
// evicted, every node the flood reached held 4,096 Sybils and dropped the
// newcomer's record for good (record_drop_full), even from a direct neighbour.
//
// Its assertions are latency figures, so it runs the ordinary build.
func TestHostileRecordFloodNewcomer(t *testing.T) {
	c := newPlainCluster(t)
	seg2, err := c.lab.AddSegment("lan2")
	if err != nil {
		t.Fatal(err)
	}
	honest := c.startAll([]*netlab.Host{c.host("h1"), c.host("h2"), c.host("h3", c.seg, seg2)}, []string{"n1", "n2", "n3"})
	n1 := honest[0]
	for _, n := range honest {
		n.waitPeerUp(15*time.Second, honest...)
	}
	evilHost := c.host("evil")
	evil, err := hostile.New(evilHost.Do)
	if err != nil {
		t.Fatal(err)
	}
	const sybils, wired = 10000, 511
	flood, err := hostile.NewSybilFlood(evil.ID, n1ID(t, n1), sybils, wired)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	link := n1.linkAs(ctx, evil)
	start := time.Now()
	if err := link.Frame(overlay.TypeRecord, flood.Own); err != nil {
		t.Fatal(err)
	}
	for i, raw := range flood.Records {
		if err := link.Frame(overlay.TypeRecord, raw); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if i%1000 == 999 {
			// n1 handles a link's frames in order: once the pong is back it has
			// taken every record so far, so the flood runs at n1's pace.
			if err := link.Sync(30 * time.Second); err != nil {
				t.Fatalf("after %d records: %v", i+1, err)
			}
		}
	}
	if err := link.Sync(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("flood: %d records (%d wired) taken by n1 in %v", sybils, wired, time.Since(start).Round(time.Millisecond))
	// The flood reaches the other honest nodes through n1; let it settle there.
	eventually(t, 30*time.Second, "the flood to fill every honest table", func() bool {
		for _, n := range honest {
			if n.counters()["records_held"] < 4000 {
				return false
			}
		}
		return true
	})
	for _, n := range honest {
		cs := n.counters()
		t.Logf("%s after the flood: records_held %v, record_drop_full %v, record_evicted_unreachable %v, record_evicted_far %v",
			n.name, cs["records_held"], cs["record_drop_full"], cs["record_evicted_unreachable"], cs["record_evicted_far"])
	}

	// The newcomer.
	n4 := c.start(c.host("h4", seg2), "n4")
	joined := time.Now()
	for _, n := range honest {
		left := 5*time.Second - time.Since(joined)
		if _, err := n.WaitEventAny(max(left, 0), func(e netlab.Event) bool {
			return e.Name() == "peer_up" && e.PeerID() == n4.id
		}); err != nil {
			t.Errorf("%s did not see the newcomer online within 5 s of its start: %v", n.name, err)
		}
	}
	online := time.Since(joined)
	var slowest time.Duration
	for _, n := range honest {
		sent := time.Now()
		id := must(n.Send(n4.id, "welcome from "+n.name)).on(n)
		if _, err := n.WaitEvent(5*time.Second, func(e netlab.Event) bool { return e.Name() == "delivered" && e.Str("id") == id }); err != nil {
			t.Errorf("%s → newcomer: not delivered within 5 s: %v", n.name, err)
			continue
		}
		slowest = max(slowest, time.Since(sent))
	}
	t.Logf("newcomer online at all 3 honest nodes %v after its start; slowest message to it delivered in %v", online.Round(time.Millisecond), slowest.Round(time.Millisecond))
	for _, n := range honest[:2] {
		if n.links()[n4.id] != nil {
			t.Errorf("%s has a direct link to the newcomer across segments", n.name)
		}
	}
	for _, n := range honest {
		if held := n.counters()["records_held"]; held > 4096 {
			t.Errorf("%s holds %v records, above its 4,096 cap", n.name, held)
		}
	}
}
