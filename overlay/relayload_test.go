package overlay

import (
	"testing"
	"time"

	"parley/identity"
)

// Flows of NotLoad types are not sessions; their bytes still count.
func TestRelayLoadSkipsNotLoadTypes(t *testing.T) {
	var o Overlay
	o.NotLoad(36, 37)
	now := time.Unix(100, 0)
	o.cfg.Now = func() time.Time { return now }
	a, c, d := identity.PeerID{1}, identity.PeerID{2}, identity.PeerID{3}
	o.relay.count(a, c, 36, 100, now)
	o.relay.count(c, a, 37, 100, now)
	if got := o.RelayLoad().Sessions; got != 0 {
		t.Fatalf("far pings made %d sessions, want 0", got)
	}
	o.relay.count(a, d, 16, 100, now)
	now = now.Add(time.Second)
	got := o.RelayLoad()
	if got.Sessions != 1 || got.Bps != 300*8 {
		t.Fatalf("load %+v, want 1 session at 2400 bit/s", got)
	}
}
