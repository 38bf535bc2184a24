package linkquality

import (
	"math"
	"slices"

	"parley/selection"
)

// measure assembles what this node publishes about itself: its machine, its
// forwarding load, its coordinate, its spare bandwidth and every link's smoothed
// figures.
func (q *Monitor) measure() selection.SelfMetrics {
	links := q.cfg.Overlay.Links()
	load := q.cfg.Load()
	total, idle, ok := q.cfg.Machine.CPUTimes()
	q.mu.Lock()
	defer q.mu.Unlock()
	cpu := q.cpu.update(total, idle, ok)
	now := q.cfg.Now()
	lt := q.cachedLinkType(now) // reads the cell too
	m := selection.SelfMetrics{
		Power: q.powerSource(), LinkType: lt, CPULoad: float32(cpu),
		RelaySessions: uint16(min(load.Sessions, math.MaxUint16)), RelayKbps: uint32(load.Bps / 1000),
		Coord: q.coord, Cell: q.media.cell,
	}
	// Spare capacity of this node's own access: the fastest measured link in each
	// direction, minus what the links carry now. The fastest, not the slowest: a slow
	// neighbour limits only its own link, while this node's own bottleneck (a shaped
	// uplink, a weak Wi-Fi) caps every link. Unmeasured links say nothing (0 = unknown).
	up, down := math.Inf(-1), math.Inf(-1)
	var txBps, rxBps float64
	for _, l := range links {
		txBps += l.Quality.TxBps * 8
		rxBps += l.Quality.RxBps * 8
		if bps, ok := q.upBps[l.Peer]; ok {
			up = max(up, bps)
		}
		if bps, ok := q.downBps[l.Peer]; ok {
			down = max(down, bps)
		}
		lm := selection.LinkMetric{
			Peer: l.Peer, RTT: l.Quality.SRTT, RTTVar: l.Quality.RTTVar, Jitter: l.Quality.Jitter, Loss: float32(l.Quality.Loss),
		}
		if e := q.est[l.Peer]; e != nil && e.Samples() > 0 {
			q.lossSeen[l.Peer] = foldLoss(e, q.lossSeen[l.Peer], l.Quality)
			lm = e.Metric(l.Peer)
		}
		m.Links = append(m.Links, lm)
	}
	kbps := func(capacity, used float64) uint32 {
		if math.IsInf(capacity, -1) {
			return 0
		}
		return uint32(max(1, min((capacity-used)/1000, math.MaxUint32)))
	}
	m.SpareUpKbps, m.SpareDownKbps = kbps(up, txBps), kbps(down, rxBps)
	// One direction measured, the other not yet: assume the link is symmetric rather
	// than publish an unknown that ranking would read as "no capacity at all".
	if m.SpareUpKbps == 0 {
		m.SpareUpKbps = m.SpareDownKbps
	}
	if m.SpareDownKbps == 0 {
		m.SpareDownKbps = m.SpareUpKbps
	}
	q.smoothSelf(&m, now, total, idle, ok)
	slices.SortFunc(m.Links, func(a, b selection.LinkMetric) int { return a.Peer.Compare(b.Peer) })
	if len(m.Links) > selection.MaxSelfLinks {
		m.Links = m.Links[:selection.MaxSelfLinks]
	}
	return m
}
