package relaysim

import (
	"fmt"
	"math"
	"slices"
	"time"

	"parley/selection"
	"parley/vivaldi"
)

// peer is one node's protocol state: what it measures and what it has published.
type peer struct {
	nbrs  []int                            // overlay neighbours (measured links), ascending
	links map[int]*selection.LinkEstimator // this node's estimator per neighbour
	coord vivaldi.Coord                    // its current coordinate
	self  selection.SelfEstimator          // smooths its readings of itself
	// probes are its links' capacity readings (spareprobe.go), by neighbour;
	// nextFar is when it next pings a far peer (farping.go).
	probes  map[int]*linkProbe
	nextFar time.Duration
	pub     *selection.Publisher
	// published is the last record as every other peer decoded it.
	published    selection.SelfMetrics
	hasPublished bool
}

const (
	// packetsPerProbe is how many packets' fate a probe interval reveals (the
	// transport's counters over the link's traffic): loss is estimated from them.
	// 10 in 5 s is an idle link of the node: a ping and a pong a second (the
	// node counts TCP data segments it sent and had to send again).
	packetsPerProbe = 10
	// minSamples before a link is published: the first estimates are guesses.
	minSamples = 3
	// recordOverhead is what a republish re-sends besides the metrics extension: the
	// TLV header (3) and the record's fixed fields and signature (115). Name, status,
	// addresses and the overlay's own neighbour list come on top in a real record.
	recordOverhead = 3 + 115
	// probeFrameBytes is a ping or pong on the wire: frame header 6 + payload 16 +
	// TLS record overhead 22.
	probeFrameBytes = 44
)

func msDur(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// chooseNeighbours gives every node a few overlay links: its nearest peers on each
// segment it is on (by base RTT, as a latency-aware overlay would converge to) and
// a few random ones (so the graph has long links, and Vivaldi sees far peers).
func (w *world) chooseNeighbours() {
	near, random := w.cfg.Degree*5/8, w.cfg.Degree-w.cfg.Degree*5/8
	for _, n := range w.nodes {
		n.links = map[int]*selection.LinkEstimator{}
		n.coord = vivaldi.New()
	}
	link := func(a, b *node) {
		if a == b || slices.Contains(a.nbrs, b.idx) {
			return
		}
		a.nbrs = append(a.nbrs, b.idx)
		b.nbrs = append(b.nbrs, a.idx)
	}
	for _, n := range w.nodes {
		for _, a := range n.att {
			var same []*node
			for _, o := range w.nodes {
				if o != n && o.onSegment(a.seg) {
					same = append(same, o)
				}
			}
			slices.SortStableFunc(same, func(x, y *node) int {
				hx, _, _ := w.direct(n, x)
				hy, _, _ := w.direct(n, y)
				return cmpF(w.baseRTT(hx), w.baseRTT(hy))
			})
			for i := 0; i < near && i < len(same); i++ {
				link(n, same[i])
			}
			for range random {
				if len(same) > 0 {
					link(n, same[w.rnd.IntN(len(same))])
				}
			}
		}
	}
	for _, n := range w.nodes {
		slices.Sort(n.nbrs)
	}
}

func (n *node) onSegment(seg int) bool {
	for _, a := range n.att {
		if a.seg == seg {
			return true
		}
	}
	return false
}

// probe is one measurement round: every online node pings each online neighbour
// once (updating its link estimate and, from the link's mean RTT, its coordinate),
// pings a far peer through the overlay when that is due (farping.go), probes the
// capacity of links due for it (spareprobe.go), then offers its metrics to its
// Publisher.
func (w *world) probe(measuring bool) error {
	for _, n := range w.nodes {
		if !n.online {
			continue
		}
		for _, j := range n.nbrs {
			o := w.nodes[j]
			if !o.online {
				continue
			}
			r, s, ok := w.route(n, o)
			if !ok {
				continue
			}
			e := n.links[j]
			if e == nil {
				e = &selection.LinkEstimator{}
				n.links[j] = e
			}
			e.AddRTT(msDur(w.sample(r)))
			e.AddLoss(w.lostOn(n, o, s.loss), packetsPerProbe)
			if measuring {
				w.probeBytes += 2 * probeFrameBytes
			}
			w.vivaldiUpdate(n, o, ms(e.RTT()))
		}
		w.farPingDue(n, measuring)
		w.spareProbeDue(n, measuring)
	}
	for _, n := range w.nodes {
		if n.online {
			if err := w.publish(n, measuring); err != nil {
				return err
			}
		}
	}
	return nil
}

// vivaldiUpdate moves n's coordinate with a sample against o's published one (what
// n knows of it), or o's own if o never published.
func (w *world) vivaldiUpdate(n, o *node, rttMs float64) {
	remote := o.coord
	if o.hasPublished {
		remote = o.published.Coord
	}
	n.coord.UpdateRand(remote, msDur(rttMs), w.rnd)
}

// lost is how many of a probe interval's packets are lost: an exact binomial draw,
// made by jumping from one loss to the next with geometric gaps (about one random
// number per interval at LAN loss rates).
func (w *world) lost(p float64) int {
	if p <= 0 {
		return 0
	}
	if p >= 1 {
		return packetsPerProbe
	}
	logq := math.Log1p(-p)
	k := 0
	for i := w.geometric(logq); i <= packetsPerProbe; i += w.geometric(logq) {
		k++
	}
	return k
}

// geometric draws the number of trials up to and including the next loss.
func (w *world) geometric(logq float64) int {
	g := math.Floor(math.Log(1-w.rnd.Float64())/logq) + 1
	return int(math.Min(g, packetsPerProbe+1))
}

// selfMetrics is what n would publish now: its own view of itself. Each round it
// reads its spare bandwidth as the node does (its links' last capacity probes,
// spareprobe.go) and its CPU load with the noise of a 5 s reading (±0.03), and
// smooths them with the real SelfEstimator; while no link was probed the spare
// bandwidth is unknown and nothing is folded in (linkquality's smoothSelf).
func (w *world) selfMetrics(n *node) selection.SelfMetrics {
	up, down := w.probedSpare(n)
	cpu := n.cpu + 0.03*w.rnd.NormFloat64()
	m := selection.SelfMetrics{
		Power: n.power, LinkType: n.link,
		RelaySessions: uint16(n.sessions()),
		RelayKbps:     uint32(n.relayKbps()),
		Coord:         n.coord,
		CPULoad:       float32(max(0, min(1, cpu))),
		Cell:          w.cellOf(n),
	}
	if up > 0 || down > 0 {
		n.self.Observe(up, down, cpu)
		n.self.Apply(&m)
	}
	for _, j := range n.nbrs {
		e := n.links[j]
		if e == nil || e.Samples() < minSamples || !w.nodes[j].online {
			continue
		}
		m.Links = append(m.Links, e.Metric(w.nodes[j].pid))
	}
	m.Links = selection.PublishedLinks(m.Links, n.published.Links, selection.MaxPublishedLinks)
	return m
}

// cellOf is the cell n publishes: its first wireless attachment's access point
// (a node reads the first wireless interface's), 0 when wired or with
// -model no-cells. Any non-zero name serves; the node's is a salted hash.
func (w *world) cellOf(n *node) uint64 {
	if w.cfg.Model == ModelNoCells {
		return 0
	}
	for _, a := range n.att {
		if a.wireless {
			return uint64(a.cell) + 1
		}
	}
	return 0
}

// publish runs n's real republish policy and, when it fires, the real encoder and
// decoder: what others see is exactly what survived the wire format.
func (w *world) publish(n *node, measuring bool) error {
	m := w.selfMetrics(n)
	if !n.pub.Offer(w.clock(), m) {
		return nil
	}
	b, err := selection.EncodeSelf(m)
	if err != nil {
		return fmt.Errorf("node %d: %w", n.idx, err)
	}
	d, err := selection.DecodeSelf(b)
	if err != nil {
		return fmt.Errorf("node %d: own record does not decode: %w", n.idx, err)
	}
	n.published, n.hasPublished = d, true
	w.graphDirty = true
	if measuring {
		size := int64(len(b) + recordOverhead)
		w.pubBytes += size
		w.pubCount++
		w.recvBytes += size * int64(w.onlineCount()-1) // flooded to every online peer
	}
	return nil
}

// ownLinks is n's fresh view of its links, as its own ranking sees them.
func (w *world) ownLinks(n *node) []selection.LinkInfo {
	var out []selection.LinkInfo
	for _, j := range n.nbrs {
		e := n.links[j]
		if e == nil || e.Samples() == 0 || !w.nodes[j].online {
			continue
		}
		out = append(out, e.Info(n.id, w.nodes[j].id))
	}
	return out
}

// graph is the shared picture every node holds: all published records, with the
// online flag from goodbyes and joins.
func (w *world) graph() *selection.Graph {
	if w.g != nil && !w.graphDirty {
		return w.g
	}
	g := &selection.Graph{Peers: make(map[string]selection.PeerInfo, len(w.nodes))}
	for _, n := range w.nodes {
		if !n.hasPublished {
			continue
		}
		g.Peers[n.id] = n.published.PeerInfo(n.pid, n.online)
		if n.online {
			g.Links = append(g.Links, n.published.LinkInfos(n.pid)...)
		}
	}
	w.g, w.graphDirty = g, false
	return g
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
