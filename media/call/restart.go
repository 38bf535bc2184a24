package call

import (
	"time"

	"parley/identity"
)

// Falling back to a relay. A leg between peers that share a segment starts
// with host candidates only. If those cannot connect (a firewall that passes
// the overlay's TCP but not UDP, a wireless client isolation, …), the offerer
// asks the best relay for credentials and offers the leg again through it: an
// invite for the same call with reason ReasonRestart, which the answerer
// takes as a replacement of its leg, not a new call. On a LAN a working host
// path connects in milliseconds, so a leg not connected ConnectTimeout after
// the answer is presumed blocked, well before ICE itself would give up.

// ReasonRestart marks an invite that replaces an existing leg.
const ReasonRestart = "restart"

// ConnectTimeout is how long a leg may take to connect after the answer
// before it is retried through a relay.
const ConnectTimeout = 4 * time.Second

// restartGrace is how long an answerer whose leg failed waits for the
// offerer's restart before giving up on it.
const restartGrace = 10 * time.Second

// watchConnect retries the leg through a relay when it has not connected in
// time (offerer side, direct legs only).
func (m *Manager) watchConnect(l *leg) {
	t := time.NewTimer(ConnectTimeout)
	defer t.Stop()
	select {
	case <-t.C:
	case <-l.c.done:
		return
	}
	if l.isActive() || l.isEnded() {
		return
	}
	if l.canRestart() {
		m.restartLeg(l)
		return
	}
	m.endLeg(l, ReasonFailed, KindHangup)
}

// canRestart reports whether a failed leg may still be retried via a relay.
func (l *leg) canRestart() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.offerer && !l.active && l.relay == nil && !l.restarted && l.c.m.cfg.RelayCandidates != nil
}

// claimRestart marks the leg as being retried; false if it may not be (or
// already is: the connect timer and ICE failure can both ask).
func (l *leg) claimRestart() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.offerer || l.active || l.ended || l.relay != nil || l.restarted || l.c.m.cfg.RelayCandidates == nil {
		return false
	}
	l.restarted = true // one attempt per leg
	return true
}

// restartLeg replaces a leg that could not connect directly with one through
// a relay; without a relay it ends the leg.
func (m *Manager) restartLeg(l *leg) {
	if !l.claimRestart() {
		return
	}
	c := l.c
	r, err := m.askRelay(c.ctx, c.id, l.peer)
	if err != nil {
		m.cfg.Log.Warn("direct call path failed and no relay is available", "call", c.id, "peer", l.peer.Short(), "err", err)
		m.endLeg(l, ReasonFailed, KindHangup)
		return
	}
	nl := newLeg(c, l.peer, true)
	nl.relay, nl.restarted = r, true
	if !c.replaceLeg(l, nl) {
		return
	}
	m.cfg.Log.Info("call leg retried through a relay", "call", c.id, "peer", l.peer.Short(), "relay", r.Peer.Short())
	m.spawn(func() {
		if err := nl.dialWith(ReasonRestart); err != nil {
			m.cfg.Log.Warn("relayed call leg set-up failed", "call", c.id, "err", err)
			m.endLeg(nl, ReasonFailed, KindHangup)
		}
	})
}

// replaceLeg swaps old for nl as c's leg to their peer, closing old without
// counting its peer as gone; false if old is no longer the current leg.
func (c *call) replaceLeg(old, nl *leg) bool {
	c.mu.Lock()
	if c.ended || c.legs[old.peer] != old {
		c.mu.Unlock()
		return false
	}
	c.legs[old.peer] = nl
	c.mu.Unlock()
	old.markEnded()
	old.close()
	c.detachMedia(old)
	return true
}

// awaitRestart is the answerer's side of a failed leg that never connected,
// or of a relayed one whose relay was lost: the offerer may be retrying it
// through a relay, so the leg is given up (for reason) only if no
// replacement arrives in restartGrace.
func (m *Manager) awaitRestart(l *leg, reason string) {
	t := time.NewTimer(restartGrace)
	defer t.Stop()
	select {
	case <-t.C:
	case <-l.c.done:
		return
	}
	if l.c.leg(l.peer) == l {
		m.endLeg(l, reason, KindHangup)
	}
}

// onRestart replaces the leg from peer with the one its restart invite offers.
func (m *Manager) onRestart(c *call, from identity.PeerID, msg *Message) {
	old := c.leg(from)
	if old == nil || old.offerer || !c.answered() {
		return
	}
	nl := newLeg(c, from, false)
	nl.remoteOffer, nl.relay, nl.restarted = msg.SDP, msg.Relay, true
	moved := old.isActive() // a relay lost mid-call, not a first connection
	if c.replaceLeg(old, nl) {
		if moved {
			m.emitMoved(c, ReasonRelayMoved)
		}
		m.answerLeg(nl)
	}
}
