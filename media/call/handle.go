package call

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"parley/identity"
)

// Handle processes a signalling message from peer (already opened and
// authenticated by the node: from is the sealed sender, not a claim).
func (m *Manager) Handle(from identity.PeerID, msg *Message) {
	switch msg.Kind {
	case KindInvite:
		m.onInvite(from, msg)
		return
	case KindRelayAsk:
		m.onRelayAsk(from, msg)
		return
	case KindRelayGrant:
		m.mu.Lock()
		ch := m.asks[msg.Call]
		m.mu.Unlock()
		if ch != nil && msg.Relay != nil {
			msg.Relay.Peer = from // the grant speaks for its sender only
			select {
			case ch <- msg.Relay:
			default:
			}
		}
		return
	}
	m.mu.Lock()
	c := m.calls[msg.Call]
	m.mu.Unlock()
	if c == nil && msg.Kind == KindHangup && m.onRelayRelease(from, msg) {
		return // a leg this node relayed has ended
	}
	if c == nil || !c.isParticipant(from) {
		// Late messages of an ended call, or someone else's call ID: ignore.
		return
	}
	l := c.leg(from)
	switch msg.Kind {
	case KindRinging:
		if c.outgoing {
			c.transition(StateRinging, StateCalling)
		}
	case KindAccept:
		if l == nil || !l.offerer || l.wasAccepted() {
			return
		}
		c.transition(StateConnecting, StateCalling, StateRinging)
		m.spawn(func() {
			if err := l.accepted(msg.SDP); err != nil {
				m.cfg.Log.Warn("applying the answer failed", "call", c.id, "err", err)
				m.endLeg(l, ReasonFailed, KindHangup)
			}
		})
	case KindCandidate:
		if l != nil {
			l.remoteCandidate(msg.Candidate)
		} else {
			c.deferCandidate(from, msg.Candidate) // for a kept mixer_moved invite
		}
	case KindDecline:
		reason := ReasonDeclined
		if msg.Reason == ReasonTimeout {
			reason = ReasonTimeout
		}
		m.participantGone(c, from, reason)
	case KindBusy:
		m.participantGone(c, from, ReasonBusy)
	case KindCancel:
		reason := ReasonCancelled
		if msg.Reason == ReasonTimeout {
			reason = ReasonTimeout
		}
		m.participantGone(c, from, reason)
	case KindHangup:
		m.participantGone(c, from, ReasonRemoteHang)
	case KindDTMF:
		m.onDTMF(c, from, msg)
	case KindHold:
		m.onHold(c, from, msg)
	}
}

// onInvite rings for a new call, or adds a leg to a call this node is in (a
// group member offering its part of the mesh, or the mixer).
func (m *Manager) onInvite(from identity.PeerID, msg *Message) {
	self := m.cfg.Self
	parts := msg.Participants
	if len(parts) == 0 {
		parts = []identity.PeerID{from, self}
	}
	if len(parts) > MaxParticipants || !slices.Contains(parts, self) || !slices.Contains(parts, from) {
		return
	}
	m.mu.Lock()
	c := m.calls[msg.Call]
	if c == nil && msg.Reason == ReasonMixerMoved {
		// A new mixer takes over a call this node has left: say so, and it
		// forgets this node (mixerfailover.go). Never a ring.
		m.mu.Unlock()
		m.cfg.Send(from, &Message{Kind: KindHangup, Call: msg.Call, Reason: ReasonHangup})
		return
	}
	if c == nil {
		if m.busyLocked() && !msg.Urgent {
			m.mu.Unlock()
			m.cfg.Send(from, &Message{Kind: KindBusy, Call: msg.Call, Reason: ReasonBusy})
			return
		}
		// The first participant is who placed the call.
		c = newCall(m, msg.Call, parts[0], false)
		c.participants, c.mixer, c.urgent = slices.Clone(parts), msg.Mixer, msg.Urgent
		if !msg.Mixer.IsZero() {
			c.rank = validRank(msg.MixerRank, parts) // nil if not a ranking of parts
		}
		m.calls[c.id] = c
		m.mu.Unlock()
		c.setState(StateIncoming)
		var relay identity.PeerID
		if msg.Relay != nil {
			relay = msg.Relay.Peer
		}
		m.cfg.Emit(Incoming{Call: c.id, From: c.host, Relay: relay, Participants: slices.Clone(parts), Urgent: msg.Urgent})
		if err := m.cfg.Send(from, &Message{Kind: KindRinging, Call: c.id}); err != nil {
			m.cfg.Log.Debug("ringing not sent", "call", c.id, "err", err)
		}
		m.spawn(func() {
			m.ringTimer(c)
		})
	} else {
		m.mu.Unlock()
		if !c.isParticipant(from) {
			return
		}
		if msg.Reason == ReasonRestart && msg.SDP != "" {
			m.onRestart(c, from, msg)
			return
		}
		if msg.Reason == ReasonMixerMoved && !m.followMixer(c, from, msg) {
			return
		}
	}
	if msg.SDP == "" {
		return // rung only: the audio path comes from the mixer
	}
	l, created := c.addLeg(from, false)
	if !created {
		return // a retransmitted invite
	}
	l.mu.Lock()
	l.remoteOffer, l.relay = msg.SDP, msg.Relay
	l.mu.Unlock()
	if c.answered() {
		// Already in this call: a further member's leg joins without asking.
		m.answerLeg(l)
	}
}

// askRelay obtains credentials for call from the best relay that grants them,
// skipping the relays in exclude (one just lost).
func (m *Manager) askRelay(ctx context.Context, call ID, peer identity.PeerID, exclude ...identity.PeerID) (*Relay, error) {
	if m.cfg.RelayCandidates == nil {
		return nil, errors.New("no relay selection configured")
	}
	m.askMu.Lock()
	defer m.askMu.Unlock()
	ch := make(chan *Relay, 1)
	m.mu.Lock()
	m.asks[call] = ch
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.asks, call)
		m.mu.Unlock()
	}()
	cands := m.cfg.RelayCandidates(peer)
	urgent := m.isUrgent(call)
	asked := 0
	for _, r := range cands {
		if r == m.cfg.Self || r == peer || asked == 3 || slices.Contains(exclude, r) {
			continue
		}
		asked++
		if err := m.cfg.Send(r, &Message{Kind: KindRelayAsk, Call: call, Participants: []identity.PeerID{m.cfg.Self, peer}, Urgent: urgent}); err != nil {
			continue
		}
		t := time.NewTimer(2 * time.Second)
		select {
		case g := <-ch:
			t.Stop()
			if g.Peer == r {
				return g, nil
			}
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("no relay granted credentials (%d asked)", asked)
}
