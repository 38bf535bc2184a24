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
// peer that vanished without closing (power cut, cable pulled) is noticed.
func (o *Overlay) pingLoop(l *Link) {
	t := time.NewTicker(o.cfg.PingInterval)
	defer t.Stop()
	for {
		l.quality.updateRates(o.cfg.Now())
		if err := l.send(TypePing, l.quality.nextPing(o.cfg.Now())); err != nil && !errors.Is(err, ErrQueueFull) {
			return
		}
		select {
		case <-l.closed:
			return
		case <-t.C:
		}
		if o.cfg.Now().Sub(time.Unix(0, l.lastRx.Load())) > o.cfg.DeadAfter {
			o.stats.Add("link_timeout", 1)
			o.unregister(l)
			return
		}
	}
}
