package relaysim

import (
	"math"
	"time"
)

// Spare bandwidth, as the node measures it (linkquality/probe.go, measure.go):
// each end probes each of its links once every probeEvery (a new link at once)
// with one burst of 64 KiB, the receiver times it from its first frame to its
// last, and a peer publishes the fastest of its links' readings in each
// direction (up: its own probes; down: its neighbours' probes of it). So what is
// published is a reading of the capacity that was free when the link was last
// probed, up to 10 minutes ago, through the error of a short TCP burst.
const (
	// probeEvery is linkquality's ProbeInterval default.
	probeEvery = 10 * time.Minute
	// probeBurstBytes is overlay.ProbeBytes plus its 8 frame headers;
	// probeFrameLen one of those frames (the receiver's clock starts at the
	// first, so its bytes are not counted).
	probeBurstBytes = 64<<10 + 8*6
	probeFrameLen   = 8<<10 + 6
	// tcpInitialWindow is the congestion window a probe starts from: Linux
	// restarts an idle connection from its initial window (10 segments,
	// RFC 6928; tcp_slow_start_after_idle), and a link carrying only a ping a
	// second is idle that long. The window doubles each RTT (slow start).
	tcpInitialWindow = 10 * 1448
	// probeTimeoutSec is linkquality's probeTimeout: a burst unfinished by then
	// reads as 64 KiB / 10 s.
	probeTimeoutSec = 10
	// probeNoise is the spread of one reading besides slow start (the sender's
	// and receiver's scheduling, a Wi-Fi rate change mid-burst): ±10 % (σ of a
	// log-normal factor). An assumption, like the model's Wi-Fi rates.
	probeNoise = 0.1
)

// linkProbe is one link's last capacity readings, kbit/s.
type linkProbe struct {
	up, down float64 // up: this end's probe; down: the other end's probe of it
	at       time.Duration
	has      bool
}

// burstKbps is what one probe burst reads on a path with avail kbit/s free and a
// round trip of rttMs: slow start from the initial window, a round per RTT unless
// serialising the round takes longer, timed from the first frame's arrival to the
// last's.
func burstKbps(avail, rttMs float64) float64 {
	if avail <= 0 {
		return float64(probeBurstBytes-probeFrameLen) * 8 / 1000 / probeTimeoutSec
	}
	bytesPerMs := avail / 8 // kbit/s = bits/ms; /8 = bytes/ms
	var t, firstAt, lastAt float64
	sent, cwnd := 0.0, float64(tcpInitialWindow)
	firstAt = -1
	for sent < probeBurstBytes {
		b := math.Min(cwnd, probeBurstBytes-sent)
		if firstAt < 0 && sent+b >= probeFrameLen {
			firstAt = t + (probeFrameLen-sent)/bytesPerMs
		}
		end := t + b/bytesPerMs
		lastAt = end
		sent += b
		t = math.Max(end, t+rttMs)
		cwnd *= 2
	}
	elapsed := lastAt - firstAt
	if elapsed/1000 >= probeTimeoutSec {
		return float64(probeBurstBytes-probeFrameLen) * 8 / 1000 / probeTimeoutSec
	}
	return float64(probeBurstBytes-probeFrameLen) / elapsed * 8 // bytes/ms → kbit/s
}

// spareProbeDue probes n's links that are due, as the node's probeDue does: the
// reading is this end's up (and the other end's down) on that link.
func (w *world) spareProbeDue(n *node, measuring bool) {
	if n.probes == nil {
		n.probes = map[int]*linkProbe{}
	}
	for _, j := range n.nbrs {
		o := w.nodes[j]
		if !o.online {
			continue
		}
		p := n.probes[j]
		if p == nil {
			p = &linkProbe{}
			n.probes[j] = p
		}
		if p.has && w.now-p.at < probeEvery {
			continue
		}
		r, _, ok := w.route(n, o)
		if !ok {
			continue
		}
		nUp, _ := n.trueSpare()
		_, oDown := o.trueSpare()
		reading := burstKbps(math.Min(nUp, oDown), w.sample(r)) * math.Exp(probeNoise*w.rnd.NormFloat64())
		p.up, p.at, p.has = reading, w.now, true
		if measuring {
			w.probeBytes += probeBurstBytes + 8*22 // and each frame's TLS record overhead
		}
		if o.probes == nil {
			o.probes = map[int]*linkProbe{}
		}
		q := o.probes[n.idx]
		if q == nil {
			// The other end has not probed this link yet; it will at its next
			// round. Its down reading exists from now.
			q = &linkProbe{at: w.now}
			o.probes[n.idx] = q
		}
		q.down = reading
	}
}

// probedSpare is what n publishes as its spare bandwidth before smoothing: the
// fastest reading over its live links in each direction, one direction standing
// for the other when only one was measured (the node's rule), 0 if none yet.
func (w *world) probedSpare(n *node) (up, down float64) {
	for _, j := range n.nbrs {
		p := n.probes[j]
		if p == nil || !w.nodes[j].online {
			continue
		}
		up, down = math.Max(up, p.up), math.Max(down, p.down)
	}
	if up == 0 {
		up = down
	}
	if down == 0 {
		down = up
	}
	return up, down
}
