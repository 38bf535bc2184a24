package call

import (
	"slices"
	"time"

	"parley/identity"
)

// Losing the mixer. A call larger than MaxMesh is mixed by one participant;
// every other member has one leg, to it. When the mixer goes (its overlay
// presence lost, or its leg failing), the call does not end: the remaining
// participants agree on a new mixer without a round of messages, because each
// computes the same successor list from what all of them know alike — the
// participant list of the Invite — and the new mixer offers a leg to everyone
// (an invite with reason ReasonMixerMoved).
//
// The successor list is the caller's ranking of the participants for mixing
// (Message.MixerRank, Config.RankMixers: the selection package's call-mixer
// purpose), then any it left out in peer ID order (identity.PeerID.Less) — all
// of it in peer ID order when the invite carried no ranking — less the lost
// mixer and those this node knows have left. Members of a mixed
// call hear of each other's departures only through the mixer, so a member may
// still list a participant that left; the list is therefore walked in time:
// successor k takes over mixerStep×k after the loss unless an invite from an
// earlier successor reached it first, and members wait for each successor in
// turn. In the usual case the first successor is in the call, takes over at
// once, and the gap is how long the loss takes to notice plus one leg set-up.
// A participant that had left answers a ReasonMixerMoved invite for a call it
// no longer has with a hangup, so the new mixer forgets it.
//
// Two successors can mix at once: the earlier one slower than mixerStep to
// notice the loss takes over after a later one already did. The order settles
// it: a node mixing, or following a mixer, that gets a ReasonMixerMoved invite
// from a successor earlier in the list than its mixer drops its legs (without
// counting anyone gone), stops mixing if it was, and answers the invite; an
// invite from a later successor is refused (call_mixer_conflict at a mixer).
// Every node compares the same two positions, so the call converges on the
// earliest successor that took over (TestMixerConflictYields). The gap for
// those moved twice is one more leg set-up. mixerStep stays far above the
// spread of the overlay's offline events (under a second in TestMixerLost and
// itest TestFailover), which keeps this rare.

// ReasonMixerMoved is the reason of a call_state event when another
// participant took over mixing (the state itself is unchanged), and of the
// new mixer's invites.
const ReasonMixerMoved = "mixer_moved"

// mixerStep is how long each successor in turn is given to take over before
// the next one does (see above).
const mixerStep = 3 * time.Second

// successorsLocked lists who takes over from lost, in order: the caller's
// mixer ranking when the invite carried one (so a weak device is not picked
// for its ID), then whoever it left out in peer ID order. c.mu is held.
func (c *call) successorsLocked(lost identity.PeerID) []identity.PeerID {
	var out, rest []identity.PeerID
	for _, p := range c.rank {
		if p != lost && !c.gone[p] {
			out = append(out, p)
		}
	}
	for _, p := range c.participants {
		if p != lost && !c.gone[p] && !slices.Contains(out, p) {
			rest = append(rest, p)
		}
	}
	slices.SortFunc(rest, func(a, b identity.PeerID) int {
		switch {
		case a.Less(b):
			return -1
		case b.Less(a):
			return 1
		}
		return 0
	})
	return append(out, rest...)
}

// validRank is rank if it names only participants, each once; nil otherwise
// (a caller's word, checked before every participant orders by it).
func validRank(rank, participants []identity.PeerID) []identity.PeerID {
	for i, p := range rank {
		if !slices.Contains(participants, p) || slices.Contains(rank[:i], p) {
			return nil
		}
	}
	return slices.Clone(rank)
}

// mixerLost starts the takeover after the mixer lost left c (already marked
// gone); false if the call should end instead (not answered here, or this
// node was the mixer).
func (m *Manager) mixerLost(c *call, lost identity.PeerID) bool {
	self := m.cfg.Self
	c.mu.Lock()
	if c.ended || c.answeredAt.IsZero() || c.mixer != lost || lost == self {
		c.mu.Unlock()
		return false
	}
	succ := c.successorsLocked(lost)
	if len(succ) < 2 { // only this node is left
		c.mu.Unlock()
		return false
	}
	c.mixer, c.succ, c.seeking = succ[0], succ, true
	deferred, from, cands := c.deferred, c.deferredFrom, c.deferredCand
	c.deferred, c.deferredCand = nil, nil
	c.mu.Unlock()
	m.count("call_mixer_lost")
	m.cfg.Log.Info("call mixer lost; taking turns to replace it", "call", c.id, "lost", lost.Short(), "next", succ[0].Short())
	m.spawn(func() { m.takeOver(c, succ) })
	if deferred != nil {
		m.spawn(func() {
			m.onInvite(from, deferred)
			if l := c.leg(from); l != nil {
				for _, js := range cands {
					l.remoteCandidate(js)
				}
			}
		})
	}
	return true
}

// takeOver walks the successor list: this node mixes when its turn comes,
// unless it followed an earlier successor's invite first.
func (m *Manager) takeOver(c *call, succ []identity.PeerID) {
	self := m.cfg.Self
	for i, s := range succ {
		if s == self {
			m.becomeMixer(c, succ)
			return
		}
		t := time.NewTimer(mixerStep)
		select {
		case <-t.C:
		case <-c.done:
			t.Stop()
			return
		}
		c.mu.Lock()
		if !c.seeking || !slices.Equal(c.succ, succ) {
			// Followed a new mixer, or a later loss restarted the walk.
			c.mu.Unlock()
			return
		}
		c.mixer = succ[i+1] // s did not take over; the next one should
		c.mu.Unlock()
	}
}

// becomeMixer switches this node's audio to mixing and offers a leg to every
// participant still in the call.
func (m *Manager) becomeMixer(c *call, succ []identity.PeerID) {
	self := m.cfg.Self
	c.mu.Lock()
	if c.ended || !c.seeking || !slices.Equal(c.succ, succ) {
		c.mu.Unlock()
		return
	}
	c.mixer, c.seeking = self, false
	var invite []identity.PeerID
	for _, p := range c.participants {
		if p != self && !c.gone[p] {
			invite = append(invite, p)
		}
	}
	a := c.audio
	c.mu.Unlock()
	if a != nil {
		a.mixing.Store(true)
	}
	m.count("call_mixer_took_over")
	m.cfg.Log.Info("this node now mixes the call", "call", c.id, "legs", len(invite))
	m.emitMoved(c, ReasonMixerMoved)
	for _, p := range invite {
		m.dialLegWith(c, p, ReasonMixerMoved)
	}
}

// followMixer decides on a ReasonMixerMoved invite msg from a participant:
// true if this node takes from as its new mixer (and so answers its leg).
// An invite that comes before this node noticed the loss itself (the inviter
// noticed first) is kept, one per call, and taken up when this node notices:
// a mixer this node still hears is not dropped on another's word.
func (m *Manager) followMixer(c *call, from identity.PeerID, msg *Message) bool {
	self := m.cfg.Self
	c.mu.Lock()
	switch {
	case c.ended || c.answeredAt.IsZero() || c.mixer.IsZero():
		c.mu.Unlock()
		return false
	case !c.seeking && precedes(c.succ, from, c.mixer):
		// Two successors mixing at once: the earlier in the order every
		// participant computed wins, wherever its invite lands — the later
		// one stops mixing, and those following it switch.
		yield := c.mixer == self
		c.mixer = from
		legs := c.legs
		c.legs = map[identity.PeerID]*leg{}
		a := c.audio
		c.mu.Unlock()
		if yield {
			m.count("call_mixer_conflict")
			m.count("call_mixer_yielded")
			if a != nil {
				a.mixing.Store(false)
			}
			m.cfg.Log.Info("two mixers: this node yields to the earlier successor", "call", c.id, "mixer", from.Short())
		}
		for _, l := range legs {
			// Not gone: the peer is still in the call, through the new mixer.
			l.markEnded()
			l.close()
			c.detachMedia(l)
		}
		m.count("call_mixer_followed")
		m.emitMoved(c, ReasonMixerMoved)
		return true
	case !c.seeking:
		if c.mixer == self {
			m.count("call_mixer_conflict") // two successors took over (see above)
		} else if c.deferred == nil || !precedes(c.successorsLocked(c.mixer), c.deferredFrom, from) {
			// Keep the invite of the earliest successor: the one every node
			// converges on (a later one yields to it).
			if c.deferredFrom != from {
				c.deferredCand = nil
			}
			c.deferred, c.deferredFrom = msg, from
		}
		c.mu.Unlock()
		return false
	case !slices.Contains(c.succ, from):
		c.mu.Unlock()
		return false
	}
	c.mixer, c.seeking = from, false
	c.mu.Unlock()
	m.count("call_mixer_followed")
	m.emitMoved(c, ReasonMixerMoved)
	return true
}

// precedes reports whether a comes before b in the successor list succ
// (both in it).
func precedes(succ []identity.PeerID, a, b identity.PeerID) bool {
	i, j := slices.Index(succ, a), slices.Index(succ, b)
	return i >= 0 && j >= 0 && i < j
}

// deferCandidate keeps a candidate from the sender of the kept invite, which
// has no leg yet to take it.
func (c *call) deferCandidate(from identity.PeerID, js string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deferred != nil && c.deferredFrom == from && len(c.deferredCand) < maxPendingCandidates {
		c.deferredCand = append(c.deferredCand, js)
	}
}

// emitMoved tells the node a call's media moved (reason ReasonMixerMoved or
// ReasonRelayMoved) while its state stayed what it was.
func (m *Manager) emitMoved(c *call, reason string) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	ev := StateChanged{Call: c.id, Peer: c.peerLocked(), State: c.st, Reason: reason, Outgoing: c.outgoing}
	c.mu.Unlock()
	m.cfg.Emit(ev)
}
