package linkquality

import (
	"math"

	"parley/identity"
	"parley/overlay"
	"parley/selection"
)

// Cross-checking what peers claim (issue 22 item 5). A peer's record is signed by
// the peer, which proves who said it, not that it is true: a peer that wants
// relaying for itself or others' traffic through it can publish that its links
// lose nothing and that it has bandwidth to spare. Where this node has a link to
// the peer it measured the same things itself, and a claim much better than that
// measurement is discounted:
//
//   - loss: the peer's published loss on its link to us against ours on the same
//     link (the two directions of one path; Wi-Fi can differ between them, hence
//     the slack). If ours is more than claimLossSlack above and more than
//     claimRatio times the claim, with ours resting on at least
//     claimMinPackets packets, the peer's published links are left out of the
//     picture: legs to it are then estimated from its coordinate and from the
//     loss its other neighbours publish of their links to it (access shares).
//   - spare bandwidth: our probe of the link reads min(our upload, its
//     download), and its probe of us min(its upload, our download). Where our
//     own best link reads claimRatio times more than the one to the peer, the
//     peer, not us, is that link's bottleneck, so its claimed spare download
//     (upload) above claimRatio times our reading is cut to our reading.
//     claimRatio covers the burst's own error: slow start reads a fast link at
//     about 0.4–0.7 of its rate (internal/relaysim, TestBurstReading). A burst
//     on a link with a long round trip reads low whatever the capacity (slow
//     start needs about two round trips beyond its first window: at most
//     64 KiB / 2 RTT), so a reading within claimRatio of that ceiling says
//     nothing and is not used: it would cut an honest fast peer that is merely
//     far.
//
// Both count (claims_discounted_loss, claims_discounted_spare) and neither
// changes the record, only this node's picture. Claims that are worse than
// measured are kept: a peer that undersells itself harms only its own chances.
const (
	claimLossSlack  = 0.03
	claimRatio      = 3.0
	claimMinPackets = 500
)

// crossCheck discounts the claims in g that this node's own measurements
// contradict. self is this node's ID in g.
func (q *Monitor) crossCheck(g *selection.Graph) {
	self := q.cfg.Self.String()
	q.mu.Lock()
	ourLoss := map[string]float64{}
	for id, e := range q.est {
		if e.LossPackets() >= claimMinPackets {
			ourLoss[id.String()] = float64(e.Metric(id).Loss)
		}
	}
	// kbit/s: our probe of it, its probe of us, and what a burst can read at
	// the link's round trip.
	type rates struct{ up, down, ceiling float64 }
	probed := map[identity.PeerID]rates{}
	var bestUp, bestDown float64
	for id, bps := range q.upBps {
		r := probed[id]
		r.up = bps / 1000
		probed[id] = r
		bestUp = max(bestUp, r.up)
	}
	for id, bps := range q.downBps {
		r := probed[id]
		r.down = bps / 1000
		probed[id] = r
		bestDown = max(bestDown, r.down)
	}
	for id, r := range probed {
		r.ceiling = math.Inf(1)
		if e := q.est[id]; e != nil && e.RTT() > 0 {
			r.ceiling = float64(overlay.ProbeBytes*8) / 1000 / (2 * e.RTT().Seconds())
		}
		probed[id] = r
	}
	q.mu.Unlock()

	distrusted := map[string]bool{}
	for _, l := range g.Links {
		if l.B != self {
			continue
		}
		ours, ok := ourLoss[l.A]
		if ok && ours-float64(l.Loss) > claimLossSlack && ours > claimRatio*float64(l.Loss) {
			distrusted[l.A] = true
		}
	}
	if len(distrusted) > 0 {
		kept := g.Links[:0]
		for _, l := range g.Links {
			if !distrusted[l.A] {
				kept = append(kept, l)
			}
		}
		g.Links = kept
		q.stats.Add("claims_discounted_loss", uint64(len(distrusted)))
	}
	for pid, r := range probed {
		id := pid.String()
		p, ok := g.Peers[id]
		if !ok || id == self {
			continue
		}
		// A reading says the peer is the bottleneck when our own best link reads
		// claimRatio times more and the round trip did not cap it.
		contradicts := func(reading, best, claimed float64) bool {
			return reading > 0 && best >= claimRatio*reading && reading*claimRatio <= r.ceiling &&
				claimed > claimRatio*reading
		}
		cut := false
		if contradicts(r.up, bestUp, float64(p.SpareDownKbps)) {
			p.SpareDownKbps, cut = uint32(r.up), true
		}
		if contradicts(r.down, bestDown, float64(p.SpareUpKbps)) {
			p.SpareUpKbps, cut = uint32(r.down), true
		}
		if cut {
			g.Peers[id] = p
			q.stats.Add("claims_discounted_spare", 1)
		}
	}
}
