package overlay

import (
	"context"
	"testing"
	"time"

	"parley/internal/seqno"
)

// restartBehind stops a (its goodbye reaches b), then starts the same identity
// again with its clock an hour behind and seq as its sequence source (nil: the
// default, from the clock alone), linked to b.
func restartBehind(t *testing.T, a, b *testNode, seq func(now func() time.Time) SeqSource) *testNode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	a.ov.Shutdown(ctx)
	a.halt()
	waitUntil(t, "bob to see alice's goodbye", func() bool { return b.log.count(is(PeerOffline, a.id.ID)) == 1 })
	behind := func() time.Time { return time.Now().Add(-time.Hour) }
	a2 := startNodeCfg(t, 1, "alice again", func(c *Config) {
		c.Now = behind
		if seq != nil {
			c.Seq = seq(behind)
		}
	}, nil)
	dial(t, a2, b)
	return a2
}

// A node restarted with its clock behind and no stored sequence comes back
// online: bob sends alice her own goodbye on the new link (syncTo), she jumps
// past it and republishes. Before, bob kept the goodbye, dropped every new record
// of hers as stale, and she stayed offline until her clock caught up.
func TestRestartWithClockBehindComesBackOnline(t *testing.T) {
	a := startNode(t, 1, "alice")
	b := startNode(t, 2, "bob")
	dial(t, a, b)
	b.waitEvent("alice online at bob", is(PeerOnline, a.id.ID))
	goodbye := a.ov.SelfRecord().Seq
	a2 := restartBehind(t, a, b, nil)
	waitUntil(t, "alice back online at bob", func() bool { return b.log.count(is(PeerOnline, a.id.ID)) == 2 })
	if rec := b.ov.RecordOf(a.id.ID); rec == nil || rec.Offline || rec.Seq <= goodbye {
		t.Errorf("bob holds %+v for alice, want a live record above the goodbye's seq %d", rec, goodbye)
	}
	if n := a2.ov.Stats()["record_self_newer"]; n == 0 {
		t.Errorf("alice never saw her newer goodbye")
	}
}

// With the sequence stored (internal/seqno), the first record after the restart
// is already above the goodbye: no repair needed.
func TestRestartWithClockBehindStoredSeq(t *testing.T) {
	var stored uint64
	save := func(r uint64) error { stored = r; return nil }
	a := startNodeCfg(t, 1, "alice", func(c *Config) { c.Seq = seqno.New(nil, 0, save) }, nil)
	b := startNode(t, 2, "bob")
	dial(t, a, b)
	b.waitEvent("alice online at bob", is(PeerOnline, a.id.ID))
	a2 := restartBehind(t, a, b, func(now func() time.Time) SeqSource { return seqno.New(now, stored, save) })
	waitUntil(t, "alice back online at bob", func() bool { return b.log.count(is(PeerOnline, a.id.ID)) == 2 })
	if n := a2.ov.Stats()["record_self_newer"]; n != 0 {
		t.Errorf("alice needed bob's copy (%d times) although her sequence was stored", n)
	}
}
