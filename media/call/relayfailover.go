package call

import (
	"parley/identity"
)

// Losing the relay. A leg relayed by TURN depends on a third peer. When that
// peer leaves the overlay (PeerGone: crashed, or its links lost), or the
// relayed path stops answering ICE consent checks (the peer connection goes
// disconnected, 4 s, or failed), the leg moves: its offerer — who asked for
// the credentials — asks the next-ranked relay, leaving out the lost one, and
// offers the leg again through it, an invite with reason ReasonRestart that
// the answerer takes as a replacement of its leg (restart.go, onRestart).
// With no other relay the leg is offered again through the same one if it is
// still in the overlay (only its path failed), else direct: the two may
// reach each other now. The lost relay is not told the old leg ended when it is gone from the
// overlay (its grant died with it); when only the path failed it is, as at
// hang-up. The answerer does nothing but wait for the new offer: its own leg
// failing under it waits restartGrace for one before the leg ends.
//
// Both sides report the move as a call_state with reason ReasonRelayMoved
// and the state unchanged. A leg moves at most maxRelayMoves times, so a
// call whose every relay fails ends rather than cycling.

// ReasonRelayMoved is the reason of a call_state event when a leg moved off
// a lost relay (the state itself is unchanged).
const ReasonRelayMoved = "relay_moved"

// maxRelayMoves bounds the moves of one leg: a LAN has a handful of relays.
const maxRelayMoves = 4

// relayGone moves c's legs that relay peer carried.
func (m *Manager) relayGone(c *call, relay identity.PeerID) {
	for _, l := range c.legList() {
		if r := l.relayOf(); r != nil && r.Peer == relay && l.offerer {
			m.spawn(func() { m.moveRelay(l, relay, true) })
		}
	}
}

// claimMove marks a relayed, connected leg as moving; false if it may not.
func (l *leg) claimMove() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.offerer || l.ended || l.moving || l.relay == nil || l.moves >= maxRelayMoves {
		return false
	}
	l.moving = true
	return true
}

// relayPathFailed handles an active relayed leg whose peer connection
// failed under it (offerer side): it moves, unless it is moving already, and
// ends when it has moved maxRelayMoves times.
func (m *Manager) relayPathFailed(l *leg, relay identity.PeerID) {
	l.mu.Lock()
	moving, spent := l.moving, l.moves >= maxRelayMoves
	l.mu.Unlock()
	switch {
	case moving:
	case spent:
		m.endLeg(l, ReasonPeerLost, KindHangup)
	default:
		m.moveRelay(l, relay, false)
	}
}

// moveRelay replaces a leg relayed by lost with one through the next relay
// (or direct). dead says lost has left the overlay: it is not told.
func (m *Manager) moveRelay(l *leg, lost identity.PeerID, dead bool) {
	if !l.claimMove() {
		return
	}
	c := l.c
	r, err := m.askRelay(c.ctx, c.id, l.peer, lost)
	if err != nil && !dead {
		// No other relay, and this one is still in the overlay (only the
		// path went quiet, perhaps for a moment): a fresh allocation on it
		// beats a direct path that NeedsRelay says is not there.
		r, err = m.askRelay(c.ctx, c.id, l.peer)
	}
	if err != nil {
		m.cfg.Log.Warn("relay lost and no other grants one; trying the direct path", "call", c.id, "peer", l.peer.Short(), "err", err)
		r = nil
	}
	nl := newLeg(c, l.peer, true)
	l.mu.Lock()
	nl.relay, nl.relayAsked, nl.restarted, nl.moves = r, true, true, l.moves+1
	l.released = l.released || dead
	l.mu.Unlock()
	if !c.replaceLeg(l, nl) {
		return
	}
	m.count("call_relay_moved")
	via := "direct"
	if r != nil {
		via = r.Peer.Short()
	}
	m.cfg.Log.Info("call leg moved off a lost relay", "call", c.id, "peer", l.peer.Short(), "lost", lost.Short(), "now", via)
	m.emitMoved(c, ReasonRelayMoved)
	m.spawn(func() {
		if err := nl.dialWith(ReasonRestart); err != nil {
			m.cfg.Log.Warn("moved call leg set-up failed", "call", c.id, "err", err)
			m.endLeg(nl, ReasonFailed, KindHangup)
		}
	})
}
