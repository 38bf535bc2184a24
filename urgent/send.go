package urgent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"parley/identity"
)

// The sending side: raising items, acknowledging and cancelling them, and the
// loop that sends them again.

// raiseLocked checks this node's own cap and the outgoing bound.
func (s *Service) raiseLocked(now time.Time) error {
	if len(s.out) >= maxOutgoing {
		return ErrTooMany
	}
	if !s.own.take(now, senderPerMinute, senderBurst) {
		return ErrRate
	}
	return nil
}

// Send sends an urgent message to each of to (room names the room it is said
// in, "" for one peer) and keeps sending it until each acknowledges or it is
// cancelled.
func (s *Service) Send(to []identity.PeerID, room, text string) (ID, error) {
	switch {
	case len(text) == 0 || len(text) > MaxText:
		return ID{}, fmt.Errorf("urgent: text of %d bytes (1 to %d)", len(text), MaxText)
	case len(room) > MaxRoom:
		return ID{}, fmt.Errorf("urgent: room ID of %d bytes", len(room))
	case len(to) == 0:
		return ID{}, errors.New("urgent: nobody to send to")
	}
	now := s.cfg.Now()
	o := &outgoing{ID: NewID(), Room: room, Text: text, At: now}
	for _, p := range to {
		if p == s.cfg.Identity.ID || p.IsZero() || slices.ContainsFunc(o.Recipients, func(r *recipient) bool { return r.Peer == p }) {
			continue
		}
		o.Recipients = append(o.Recipients, &recipient{Peer: p})
	}
	if len(o.Recipients) == 0 {
		return ID{}, errors.New("urgent: nobody to send to")
	}
	s.mu.Lock()
	if err := s.raiseLocked(now); err != nil {
		s.mu.Unlock()
		return ID{}, err
	}
	s.out = append(s.out, o)
	s.saveLocked()
	s.mu.Unlock()
	s.retry(now) // the first attempt at once
	return o.ID, nil
}

// Alert raises an all-hands alert: flooded to every node now, and again every
// 15 s for 10 minutes unless cancelled.
func (s *Service) Alert(text string) (ID, error) {
	if len(text) == 0 || len(text) > MaxAlertText {
		return ID{}, fmt.Errorf("alert: text of %d bytes (1 to %d)", len(text), MaxAlertText)
	}
	now := s.cfg.Now()
	o := &outgoing{ID: NewID(), Alert: true, Text: text, At: now}
	o.frame = SignAlert(s.cfg.Identity, o.ID, time.UnixMilli(now.UnixMilli()), text)
	s.mu.Lock()
	if err := s.raiseLocked(now); err != nil {
		s.mu.Unlock()
		return ID{}, err
	}
	s.out = append(s.out, o)
	s.seen[o.ID] = seenAlert{at: now, frame: o.frame}
	o.nextFlood = now.Add(alertReflood)
	s.saveLocked()
	s.mu.Unlock()
	s.flood(o.frame, identity.PeerID{})
	return o.ID, nil
}

// flood sends an alert frame to every neighbour but except.
func (s *Service) flood(frame []byte, except identity.PeerID) {
	for _, nb := range s.cfg.Net.Neighbours() {
		if nb == except {
			continue
		}
		if err := s.cfg.Net.Send(nb, TypeAlert, frame); err != nil {
			s.count("alert_send_failed")
			continue
		}
		s.count("alert_sent")
	}
}

// LinkUp passes every alert still alive to a neighbour that just linked: a
// node that joins, or rejoins after a partition, hears the alerts raised
// while it was away (its neighbours drop copies they hold as duplicates, so
// only the new side of the link spreads them further).
func (s *Service) LinkUp(peer identity.PeerID) {
	now := s.cfg.Now()
	var frames [][]byte
	s.mu.Lock()
	for _, a := range s.seen {
		if a.frame != nil && now.Sub(a.at) < alertLife {
			frames = append(frames, a.frame)
		}
	}
	s.mu.Unlock()
	for _, f := range frames {
		if err := s.cfg.Net.Send(peer, TypeAlert, f); err != nil {
			s.count("alert_send_failed")
			continue
		}
		s.count("alert_sent")
	}
}

// Ack acknowledges every received item with id: it leaves the unacknowledged
// list and the acknowledgement goes to its sender (again when the sender
// retries, should this one be lost).
func (s *Service) Ack(id ID) error {
	now := s.cfg.Now()
	s.mu.Lock()
	var done []acked
	s.inbox = slices.DeleteFunc(s.inbox, func(it Item) bool {
		if it.ID != id {
			return false
		}
		done = append(done, acked{ackedKey: ackedKey{From: it.From, ID: id}, At: now})
		return true
	})
	if len(done) == 0 {
		s.mu.Unlock()
		return ErrUnknown
	}
	s.acked = append(s.acked, done...)
	if len(s.acked) > maxAcked {
		s.acked = slices.Delete(s.acked, 0, len(s.acked)-maxAcked)
	}
	s.saveLocked()
	s.mu.Unlock()
	// A lost acknowledgement is sent again when the sender retries (onMessage).
	for _, d := range done {
		s.sendBody(d.From, Body{Kind: KindAck, ID: id, At: now})
	}
	s.cfg.Emit(Acknowledged{ID: id, By: s.cfg.Identity.ID, At: now})
	return nil
}

// Cancel stops sending an outgoing item; the recipients of a message that
// have not acknowledged it are told, so it leaves their screens.
func (s *Service) Cancel(id ID) error {
	now := s.cfg.Now()
	s.mu.Lock()
	i := slices.IndexFunc(s.out, func(o *outgoing) bool { return o.ID == id })
	if i < 0 {
		s.mu.Unlock()
		return ErrUnknown
	}
	o := s.out[i]
	s.out = slices.Delete(s.out, i, i+1)
	s.saveLocked()
	s.mu.Unlock()
	for _, r := range o.Recipients {
		if r.AckedAt.IsZero() {
			s.sendBody(r.Peer, Body{Kind: KindCancel, ID: id, At: now})
		}
	}
	s.cfg.Emit(Cancelled{ID: id, By: s.cfg.Identity.ID})
	return nil
}

// Pending lists what waits: the items received and not acknowledged (oldest
// first), and the outgoing items not cancelled with who acknowledged them.
func (s *Service) Pending() (in []Item, out []Outgoing) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in = slices.Clone(s.inbox)
	for _, o := range s.out {
		v := Outgoing{ID: o.ID, Alert: o.Alert, Room: o.Room, Text: o.Text, At: o.At, Acked: map[identity.PeerID]time.Time{}}
		for _, r := range o.Recipients {
			if !o.Alert {
				v.To = append(v.To, r.Peer)
			}
			if !r.AckedAt.IsZero() {
				v.Acked[r.Peer] = r.AckedAt
			}
		}
		out = append(out, v)
	}
	return in, out
}

// sendBody seals b to peer and sends it however peer can be reached.
func (s *Service) sendBody(peer identity.PeerID, b Body) error {
	err := s.sealed.SendSealed(peer, EncodeBody(b))
	if err != nil {
		s.count("urgent_send_failed")
	}
	return err
}

// Run retries messages and floods alerts again until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.retry(s.cfg.Now())
		}
	}
}

// retry sends every message to the recipients whose next attempt is due and
// who are reachable, and floods due alerts again.
func (s *Service) retry(now time.Time) {
	type send struct {
		to identity.PeerID
		b  Body
	}
	var sends []send
	var floods [][]byte
	s.mu.Lock()
	for _, o := range s.out {
		if o.Alert {
			if now.Sub(o.At) < alertLife && !now.Before(o.nextFlood) {
				o.nextFlood = now.Add(alertReflood)
				floods = append(floods, o.frame)
			}
			continue
		}
		for _, r := range o.Recipients {
			if !r.AckedAt.IsZero() || now.Before(r.next) || !s.cfg.Net.Online(r.Peer) {
				continue
			}
			r.next = now.Add(min(retryMax, time.Second<<min(r.attempts, 5)))
			r.attempts++
			sends = append(sends, send{r.Peer, Body{Kind: KindMessage, ID: o.ID, At: o.At, Room: o.Room, Text: o.Text}})
		}
	}
	s.mu.Unlock()
	for _, sd := range sends {
		if s.sendBody(sd.to, sd.b) == nil {
			s.count("urgent_sent")
		}
	}
	for _, f := range floods {
		s.flood(f, identity.PeerID{})
	}
}
