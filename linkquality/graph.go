package linkquality

import (
	"net/netip"

	"parley/identity"
	"parley/selection"
)

// Graph builds the shared picture relays are ranked on: every known record's
// published metrics plus this node's own fresh link measurements (as of the last
// Publish), with the claims these measurements contradict discounted
// (distrust.go).
func (q *Monitor) Graph() *selection.Graph {
	g := &selection.Graph{Peers: map[string]selection.PeerInfo{}}
	add := func(id identity.PeerID, m selection.SelfMetrics, online bool, addrs []netip.AddrPort) {
		pi := selection.PeerInfo{
			ID: id.String(), Coord: m.Coord, Power: m.Power, LinkType: m.LinkType,
			SpareUpKbps: m.SpareUpKbps, SpareDownKbps: m.SpareDownKbps,
			RelaySessions: m.RelaySessions, RelayKbps: m.RelayKbps, CPULoad: m.CPULoad, Cell: m.Cell, Online: online,
			Failures: float32(q.rep.Score(id, q.cfg.Now())),
		}
		for _, a := range addrs {
			pi.Addrs = append(pi.Addrs, a.Addr())
		}
		g.Peers[pi.ID] = pi
		for _, l := range m.Links {
			g.Links = append(g.Links, selection.LinkInfo{A: pi.ID, B: l.Peer.String(), RTT: l.RTT, RTTVar: l.RTTVar, Jitter: l.Jitter, Loss: l.Loss})
		}
	}
	ov := q.cfg.Overlay
	for _, rec := range ov.Records() {
		m, _ := Published(rec)
		add(rec.ID(), m, ov.Online(rec.ID()), rec.Addrs)
	}
	q.mu.Lock()
	self := q.current
	q.mu.Unlock()
	add(q.cfg.Self, self, true, ov.AdvertisedAddrs())
	for _, l := range self.Links {
		g.Own = append(g.Own, selection.LinkInfo{A: q.cfg.Self.String(), B: l.Peer.String(), RTT: l.RTT, RTTVar: l.RTTVar, Jitter: l.Jitter, Loss: l.Loss})
	}
	q.crossCheck(g)
	return g
}

// Choose is the choice kept for key (a purpose and its destinations) given a
// fresh ranking, and whether it changed: selection.Chooser with the default
// hysteresis, on the monitor's clock.
func (q *Monitor) Choose(key string, ranked []selection.Ranked) (selection.Ranked, bool) {
	return q.chooser.ChooseAt(q.cfg.Now(), key, ranked)
}
