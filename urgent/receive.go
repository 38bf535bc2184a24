package urgent

import (
	"slices"
	"time"

	"parley/identity"
)

// HandleUrgent opens an urgent frame (an envelope) that arrived from via,
// with src its routed source (via itself on a direct link).
func (s *Service) HandleUrgent(via, src identity.PeerID, env []byte) {
	f, err := s.sealed.Open(via, src, env)
	if err != nil {
		return // counted by the courier
	}
	b, err := DecodeBody(f.Body)
	if err != nil {
		s.count("urgent_drop_malformed")
		return
	}
	switch b.Kind {
	case KindMessage:
		s.onMessage(f.Sender, b)
	case KindAck:
		s.onAck(f.Sender, b)
	case KindCancel:
		s.onCancel(f.Sender, b)
	}
}

func (s *Service) onMessage(from identity.PeerID, b Body) {
	now := s.cfg.Now()
	s.mu.Lock()
	key := ackedKey{From: from, ID: b.ID}
	if i := slices.IndexFunc(s.acked, func(a acked) bool { return a.ackedKey == key }); i >= 0 {
		// A retry of an item acknowledged here: our acknowledgement was lost.
		a := &s.acked[i]
		s.mu.Unlock()
		s.count("urgent_reacked")
		s.sendBody(from, Body{Kind: KindAck, ID: b.ID, At: a.At})
		return
	}
	if slices.ContainsFunc(s.inbox, func(it Item) bool { return it.From == from && it.ID == b.ID }) {
		s.mu.Unlock()
		s.count("urgent_dup")
		return
	}
	if ok, reason := s.limit.allow(from, now); !ok {
		s.mu.Unlock()
		s.count("urgent_" + reason)
		return
	}
	it := Item{ID: b.ID, From: from, Room: b.Room, Text: b.Text, At: b.At, Received: now}
	s.addLocked(it)
	s.mu.Unlock()
	s.count("urgent_received")
	s.cfg.Emit(Received{Item: it})
}

// addLocked adds an item to the unacknowledged list, dropping the oldest
// when it is full, and saves.
func (s *Service) addLocked(it Item) {
	if len(s.inbox) >= maxInbox {
		s.inbox = slices.Delete(s.inbox, 0, len(s.inbox)-maxInbox+1)
		s.count("urgent_drop_full")
	}
	s.inbox = append(s.inbox, it)
	s.saveLocked()
}

func (s *Service) onAck(from identity.PeerID, b Body) {
	s.mu.Lock()
	i := slices.IndexFunc(s.out, func(o *outgoing) bool { return o.ID == b.ID })
	if i < 0 {
		s.mu.Unlock()
		s.count("urgent_ack_unknown")
		return
	}
	o := s.out[i]
	j := slices.IndexFunc(o.Recipients, func(r *recipient) bool { return r.Peer == from })
	switch {
	case j < 0 && (!o.Alert || len(o.Recipients) >= maxAlertAck):
		s.mu.Unlock()
		s.count("urgent_ack_unknown")
		return
	case j < 0:
		o.Recipients = append(o.Recipients, &recipient{Peer: from, AckedAt: b.At})
	case !o.Recipients[j].AckedAt.IsZero():
		s.mu.Unlock()
		s.count("urgent_ack_dup")
		return
	default:
		o.Recipients[j].AckedAt = b.At
	}
	s.saveLocked()
	s.mu.Unlock()
	s.count("urgent_acked")
	s.cfg.Emit(Acknowledged{ID: b.ID, By: from, At: b.At})
}

func (s *Service) onCancel(from identity.PeerID, b Body) {
	s.mu.Lock()
	n := len(s.inbox)
	s.inbox = slices.DeleteFunc(s.inbox, func(it Item) bool { return it.From == from && it.ID == b.ID && !it.Alert })
	if len(s.inbox) == n {
		s.mu.Unlock()
		return
	}
	s.saveLocked()
	s.mu.Unlock()
	s.count("urgent_cancelled")
	s.cfg.Emit(Cancelled{ID: b.ID, By: from})
}

// HandleAlert takes an alert frame from a neighbour: verified, new and within
// the origin's rate, it is shown (unless the origin is blocked) and forwarded
// to every other neighbour; otherwise it is dropped and counted.
func (s *Service) HandleAlert(via identity.PeerID, p []byte) {
	a, err := DecodeAlert(p)
	if err != nil {
		s.count("alert_drop_malformed")
		return
	}
	now := s.cfg.Now()
	if d := now.Sub(a.At); d > alertLife || d < -alertLife {
		s.count("alert_drop_stale")
		return
	}
	if a.Origin == s.cfg.Identity.ID {
		s.count("alert_dup")
		return
	}
	s.mu.Lock()
	if _, dup := s.seen[a.ID]; dup {
		s.mu.Unlock()
		s.count("alert_dup")
		return
	}
	if ok, reason := s.limit.allow(a.Origin, now); !ok {
		s.mu.Unlock()
		s.count("alert_" + reason)
		return
	}
	var fwd []byte
	if a.Hops > 1 {
		fwd = slices.Clone(p)
		fwd[0] = a.Hops - 1
	}
	s.markSeenLocked(a.ID, seenAlert{at: now, frame: fwd})
	// A blocked origin's alert is not shown here, but still forwarded (within
	// the origin's rate): blocking is this user's decision, and a node that
	// is the only path between two segments must not decide it for the
	// others, as relays forward routed frames of peers they blocked.
	if s.cfg.Blocked != nil && s.cfg.Blocked(a.Origin) {
		s.mu.Unlock()
		s.count("alert_drop_blocked")
	} else {
		it := Item{ID: a.ID, From: a.Origin, Alert: true, Text: a.Text, At: a.At, Received: now}
		s.addLocked(it)
		s.mu.Unlock()
		s.count("alert_received")
		s.cfg.Emit(Received{Item: it})
	}
	if fwd != nil {
		s.flood(fwd, via)
	}
}

// markSeenLocked remembers an alert ID, forgetting those past alertLife (and,
// should that not make room, the oldest).
func (s *Service) markSeenLocked(id ID, a seenAlert) {
	now := a.at
	if len(s.seen) >= maxSeen {
		var oldest ID
		var oldestAt time.Time
		for k, v := range s.seen {
			if at := v.at; now.Sub(at) > alertLife {
				delete(s.seen, k)
			} else if oldestAt.IsZero() || at.Before(oldestAt) {
				oldest, oldestAt = k, at
			}
		}
		if len(s.seen) >= maxSeen {
			delete(s.seen, oldest)
		}
	}
	s.seen[id] = a
}
