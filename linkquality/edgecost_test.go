package linkquality

import (
	"testing"
	"time"

	"parley/identity"
	"parley/overlay"
	"parley/selection"
)

// recordWith returns a signed record of id publishing one link to peer.
func recordWith(t *testing.T, id *identity.Identity, peer identity.PeerID, lm selection.LinkMetric) *overlay.Record {
	t.Helper()
	lm.Peer = peer
	b, err := selection.EncodeSelf(selection.SelfMetrics{Power: selection.Mains, LinkType: selection.Wired, Links: []selection.LinkMetric{lm}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &overlay.Record{Seq: 1, Issued: time.Now(), Name: "x", Extensions: []overlay.Extension{{Type: selection.ExtensionType, Value: b}}}
	if err := rec.Sign(id); err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestEdgeCostPrefersStableLosslessLinks: chat routing weighs a hop by RTT plus its
// published instability and loss, so of two links with equal RTT the lossy, jittery
// one costs more, and either end's view of it is enough.
func TestEdgeCostPrefersStableLosslessLinks(t *testing.T) {
	u, _ := identity.Generate()
	v, _ := identity.Generate()
	rtt := 2 * time.Millisecond
	clean := edgeCost(u.ID, v.ID, nil, nil, rtt)
	if clean < rtt {
		t.Fatalf("edge cost %v below its RTT %v", clean, rtt)
	}
	bad := selection.LinkMetric{RTT: rtt, RTTVar: 5 * time.Millisecond, Jitter: 3 * time.Millisecond, Loss: 0.05}
	fromU := edgeCost(u.ID, v.ID, recordWith(t, u, v.ID, bad), nil, rtt)
	fromV := edgeCost(u.ID, v.ID, nil, recordWith(t, v, u.ID, bad), rtt)
	if fromU <= clean+5*time.Millisecond || fromV != fromU {
		t.Fatalf("clean %v, lossy as u sees it %v, as v sees it %v", clean, fromU, fromV)
	}
	// A record about other peers' links does not change this edge.
	other, _ := identity.Generate()
	if got := edgeCost(u.ID, v.ID, recordWith(t, u, other.ID, bad), nil, rtt); got != clean {
		t.Fatalf("unrelated link changed the cost: %v vs %v", got, clean)
	}
}
