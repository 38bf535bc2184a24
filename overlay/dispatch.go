package overlay

import (
	"errors"
	"time"

	"parley/internal/bufpool"
)

func (o *Overlay) readLoop(l *Link) {
	defer o.unregister(l)
	fr := newFrameReaderSize(l.conn, l.bufferSize())
	for {
		f, err := fr.Next()
		if errors.Is(err, errSkipped) {
			o.stats.Add("frame_skipped", 1)
			l.lastRx.Store(o.cfg.Now().UnixNano())
			continue
		}
		if err != nil {
			return
		}
		l.lastRx.Store(o.cfg.Now().UnixNano())
		l.quality.countRx(f.Type, frameHeaderLen+len(f.Payload))
		o.dispatch(l, f)
	}
}

func (o *Overlay) dispatch(l *Link, f Frame) {
	switch f.Type {
	case TypePing:
		// Only a ping of the documented 16 bytes is echoed: the echo is queued
		// here and written at the peer's pace, so echoing any size let a peer
		// that reads slowly make us hold 1,024 × 1 MiB per link.
		if len(f.Payload) != pingLen {
			o.stats.Add("ping_drop_size", 1)
			bufpool.Put(f.Payload)
			return
		}
		if err := l.send(TypePong, f.Payload); err != nil {
			o.stats.Add("pong_dropped", 1)
		}
	case TypePong:
		if err := l.quality.onPong(f.Payload, o.cfg.Now()); err != nil {
			o.stats.Add("pong_drop_malformed", 1)
		}
	case TypeRecord:
		o.handleRecord(l, f.Payload)
	case TypeRecordHave:
		o.handleRecordHave(l, f.Payload)
	case TypeRecordPrune:
		o.handleRecordPrune(l, f.Payload)
	case TypeRecordWant:
		o.handleRecordWant(l, f.Payload)
	case TypeSuperseded:
		l.superseded.Store(true)
	case TypeRouted:
		o.handleRouted(l, f.Payload)
	case TypeProbe:
		bps, done, err := l.probe.onProbe(l, f.Payload, o.cfg.Now())
		if err != nil {
			o.stats.Add("probe_drop_malformed", 1)
		} else if done && o.cfg.OnProbeSeen != nil {
			o.cfg.OnProbeSeen(l.Peer, bps)
		}
	case TypeProbeReport:
		if err := l.probe.onReport(f.Payload); err != nil {
			o.stats.Add("probe_report_drop_malformed", 1)
		}
	default:
		o.mu.Lock()
		h := o.handlers[f.Type]
		o.mu.Unlock()
		if h == nil {
			o.stats.Add("frame_unknown_type", 1)
			return
		}
		h(l.Peer, f.Payload)
	}
}

// pingLoop measures RTT and ends the link after DeadAfter of silence, which is how a
// peer that vanished without closing (power cut, cable pulled) is noticed. A peer
// that crashes or quits closes its sockets, and that is noticed at once.
func (o *Overlay) pingLoop(l *Link) {
	pace := o.pingPace()
	t := time.NewTimer(time.Duration(pace * float64(o.cfg.PingInterval)))
	defer t.Stop()
	for {
		l.quality.updateRates(o.cfg.Now())
		if err := l.send(TypePing, l.quality.nextPing(o.cfg.Now())); err != nil && !errors.Is(err, ErrQueueFull) {
			return
		}
		o.stats.Add("ping_sent", 1)
		select {
		case <-l.closed:
			return
		case <-t.C:
		}
		// The silence allowed follows the pace the pings went out at.
		dead := time.Duration(pace * float64(o.cfg.DeadAfter))
		pace = o.pingPace()
		t.Reset(time.Duration(pace * float64(o.cfg.PingInterval)))
		if o.cfg.Now().Sub(time.Unix(0, l.lastRx.Load())) > max(dead, time.Duration(pace*float64(o.cfg.DeadAfter))) {
			o.stats.Add("link_timeout", 1)
			o.unregister(l)
			return
		}
	}
}

// pingBudget is how many pings a node sends a second over all its links; a node
// with more links than that pings each of them less often (pingPace). Every ping
// costs four TLS records on the wire (ping and pong, and the peer's own pair), a
// syscall and a wake-up each: in a hall of 40 nodes, each linked to the other 39,
// one-second pings were 50 kB/s and most of the 3 % of a core each node spent
// idle, and a hall of 200 (about 64 links a node) would be four times that. With
// the budget a node of up to 8 links pings each every second and notices a
// silent peer after 3.5 s, as before; one of 39 pings each every 4.9 s and
// notices after 17 s. Crashes and clean exits close the TCP connection and are
// seen at once whatever the pace. cmd/benchhall re-measures the traffic.
const pingBudget = 8

// pingPace is the factor PingInterval and DeadAfter are stretched by: 1 up to
// pingBudget links, links/pingBudget beyond, at most maxPingPace.
func (o *Overlay) pingPace() float64 {
	o.mu.Lock()
	n := len(o.links)
	o.mu.Unlock()
	return min(maxPingPace, max(1, float64(n)/pingBudget))
}

// maxPingPace bounds the stretch: links opened only to slow the pings (a node
// accepts up to 512) must not make a silent peer take minutes to notice; at 8 a
// link is pinged at least every 8 s and dropped after 28 s of silence.
const maxPingPace = 8
