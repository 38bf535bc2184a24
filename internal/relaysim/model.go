package relaysim

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"parley/identity"
	"parley/selection"
)

// Topology names a synthetic network shape.
type Topology int

const (
	// WiFiCells: 3–6 Wi-Fi cells whose access points hang off one switch, with a few
	// wired hosts on the switch.
	WiFiCells Topology = iota
	// WiredBackbone: 2–4 switches, mostly wired hosts, an access point per switch.
	WiredBackbone
	// Bridged: a Wi-Fi segment and a wired segment joined only by 2–3 dual-homed
	// peers; every cross-segment path goes through one of them.
	Bridged
	numTopologies
)

// Topologies lists every topology in order.
func Topologies() []Topology { return []Topology{WiFiCells, WiredBackbone, Bridged} }

func (t Topology) String() string {
	switch t {
	case WiFiCells:
		return "wifi-cells"
	case WiredBackbone:
		return "wired-backbone"
	case Bridged:
		return "two-segments"
	}
	return fmt.Sprintf("topology(%d)", int(t))
}

// cell is an access point or a switch: a position in its segment's plane (ms).
type cell struct {
	seg  int
	x, y float64
	wifi bool
	// mult scales the queueing, spike and loss of every Wi-Fi attachment in the
	// cell: 1 normally, 1.5–4 during an interference episode.
	mult float64
	next time.Duration // next regime change
}

// attach is a node's attachment to one segment: its end of every path through it.
type attach struct {
	seg, cell int
	wireless  bool
	base      float64 // ms: this end's share of the propagation/transmission RTT
	q         float64 // ms: mean queueing delay per sample (exponential)
	spikeP    float64 // chance per sample of a 10–60 ms power-save / retry spike
	loss      float64 // packet loss through this attachment
	load      float64 // WorldLoad: extra queueing, as a fraction of q, from carried sessions
}

// node is one simulated peer: ground truth plus its protocol state.
type node struct {
	idx    int
	pid    identity.PeerID
	id     string
	att    []attach // one per segment it is on (two for a bridge)
	bridge bool
	power  selection.Power
	link   selection.LinkType

	capUp, capDown   float64 // kbit/s
	utilUp, utilDown float64 // share of the capacity used by the owner's own traffic
	cpu              float64
	bgSessions       int // relay sessions for others (not simulated decisions)
	carried          int // WorldLoad: live decisions whose selection picks this node
	online, pinned   bool
	nextUtil         time.Duration
	nextCPU          time.Duration
	nextSess         time.Duration
	nextChurn        time.Duration

	peer // measurement and publishing state (measure.go)
}

const (
	spikeMean = 35.0             // ms, mean of U(10, 60)
	spikeSq   = 215000.0 / 150.0 // ms², E[U²] of U(10, 60)
	bgKbps    = 256.0            // per background relay session
	fwdMs     = 0.3              // a bridge's forwarding delay
)

// trueSpare is what the node could give to relaying now, kbit/s.
func (n *node) trueSpare() (up, down float64) {
	used := float64(n.bgSessions)*bgKbps + float64(n.carried)*loadKbpsSession
	return math.Max(1, n.capUp*(1-n.utilUp)-used), math.Max(1, n.capDown*(1-n.utilDown)-used)
}

// sessions is how many relay sessions n carries: its background ones and, in
// the load world, the simulated decisions that picked it. A node knows both.
func (n *node) sessions() int { return n.bgSessions + n.carried }

func (n *node) relayKbps() float64 {
	return float64(n.bgSessions)*bgKbps + float64(n.carried)*loadKbpsSession
}

// truePeer is the node as an all-knowing observer would describe it.
func (n *node) truePeer() selection.PeerInfo {
	up, down := n.trueSpare()
	return selection.PeerInfo{
		ID: n.id, Power: n.power, LinkType: n.link,
		SpareUpKbps: uint32(up), SpareDownKbps: uint32(down),
		RelaySessions: uint16(n.sessions()), RelayKbps: uint32(n.relayKbps()),
		CPULoad: float32(n.cpu), Online: n.online,
	}
}

// build creates the cells and nodes of cfg's topology.
func (w *world) build() {
	r := w.rnd
	switch w.cfg.Topology {
	case WiFiCells:
		sw := w.addSegment(0, 3+r.IntN(4), 1.5)
		for range w.cfg.Peers {
			w.addNode(w.randomAttach(0, sw, 0.85))
		}
	case WiredBackbone:
		sw := w.addSegment(0, 2+r.IntN(3), 0.6)
		for range w.cfg.Peers {
			w.addNode(w.randomAttach(0, sw, 0.2))
		}
	case Bridged:
		nb := 2 + r.IntN(2)
		swA := w.addSegment(0, 3, 1.5)
		swB := w.addSegment(1, 2, 0.6)
		for i := range nb {
			// Bridge 0 is a wired desktop with two NICs; bridge 1 reaches the Wi-Fi
			// segment over the air; bridge 2 is a laptop on battery.
			a := w.wiredAttach(0, swA[0])
			if i == 1 {
				a = w.wifiAttach(0, swA[3+r.IntN(3)])
			}
			n := w.addNode(a, w.wiredAttach(1, swB[r.IntN(len(swB))]))
			n.bridge = true
			if i == 2 {
				n.power = selection.Battery
			}
			w.bridges = append(w.bridges, n.idx)
		}
		w.nodes[w.bridges[0]].pinned = true // one way across always exists
		rest := w.cfg.Peers - nb
		for i := range rest {
			if i < rest/2 {
				w.addNode(w.randomAttach(0, swA, 0.85))
			} else {
				w.addNode(w.randomAttach(1, swB, 0.2))
			}
		}
	}
	w.pairF = make([]float32, len(w.nodes)*len(w.nodes))
	for i := range w.nodes {
		for j := i + 1; j < len(w.nodes); j++ {
			// Non-metric noise per pair (lognormal, σ = 0.1): real paths violate the
			// triangle inequality a little, which no coordinate system can embed.
			f := float32(math.Exp(0.1 * r.NormFloat64()))
			w.pairF[i*len(w.nodes)+j], w.pairF[j*len(w.nodes)+i] = f, f
		}
	}
}

// addSegment adds a switch per group and an access point per group at a small
// distance from it; returns the indices of [switches..., access points...]. Wi-Fi
// cells are placed within span ms of each other.
func (w *world) addSegment(seg, groups int, span float64) []int {
	r := w.rnd
	var sw, ap []int
	for range groups {
		x, y := r.Float64()*span, r.Float64()*span
		sw = append(sw, len(w.cells))
		w.cells = append(w.cells, cell{seg: seg, x: x, y: y, mult: 1})
		ap = append(ap, len(w.cells))
		w.cells = append(w.cells, cell{seg: seg, x: x + 0.05 + 0.2*r.Float64(), y: y, wifi: true, mult: 1})
	}
	return append(sw, ap...)
}

// randomAttach attaches to a random Wi-Fi cell with probability wifi, else to a
// random switch. cells is addSegment's result.
func (w *world) randomAttach(seg int, cells []int, wifi float64) attach {
	half := len(cells) / 2
	if w.rnd.Float64() < wifi {
		return w.wifiAttach(seg, cells[half+w.rnd.IntN(half)])
	}
	return w.wiredAttach(seg, cells[w.rnd.IntN(half)])
}

func (w *world) wifiAttach(seg, c int) attach {
	r := w.rnd
	return attach{
		seg: seg, cell: c, wireless: true,
		base:   clamp(2.5*math.Exp(0.6*r.NormFloat64()), 1, 15),
		q:      0.3 + 2.2*r.Float64(),
		spikeP: 0.04 * r.Float64(),
		loss:   math.Min(0.012*r.ExpFloat64(), 0.05),
	}
}

func (w *world) wiredAttach(seg, c int) attach {
	r := w.rnd
	return attach{
		seg: seg, cell: c,
		base: 0.05 + 0.25*r.Float64(),
		q:    0.01 + 0.09*r.Float64(),
		loss: 0.0005 * r.Float64(),
	}
}

func (w *world) addNode(att ...attach) *node {
	r := w.rnd
	n := &node{idx: len(w.nodes), att: att, power: selection.Mains, link: selection.Wired, online: true}
	binary.BigEndian.PutUint64(n.pid[:8], w.cfg.Seed)
	binary.BigEndian.PutUint64(n.pid[8:], uint64(n.idx)+1)
	n.id = n.pid.String()
	wireless := false
	for _, a := range att {
		wireless = wireless || a.wireless
	}
	if wireless {
		n.link = selection.Wireless
		if r.Float64() < 0.6 {
			n.power = selection.Battery
		}
		n.capUp = clamp(40_000*math.Exp(0.8*r.NormFloat64()), 5_000, 200_000)
		n.capDown = clamp(n.capUp*(1+r.Float64()), 5_000, 200_000)
	} else {
		n.capUp = 1_000_000
		if r.Float64() < 0.3 {
			n.capUp = 100_000
		}
		n.capDown = n.capUp
	}
	w.nodes = append(w.nodes, n)
	return n
}

func clamp(v, lo, hi float64) float64 { return math.Min(math.Max(v, lo), hi) }

// expDur draws an exponential duration with the given mean.
func expDur(r *rand.Rand, mean time.Duration) time.Duration {
	return time.Duration(r.ExpFloat64() * float64(mean))
}
