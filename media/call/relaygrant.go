package call

import (
	"slices"
	"time"

	"parley/identity"
)

// Serving as a relay for other peers' calls. A relay is a third party: it is
// never in the calls it relays, so all it knows of one is what the asks say.
// It grants credentials only for a call leg the asker is a party of, names the
// leg in the credential, lets each asker hold grants in one call at a time (a
// node is in one call at a time), and ends a leg's allocations when one of its
// parties says the leg ended (leg.close sends that). What it cannot know is
// whether the call is real: a peer can always invent one with a second key of
// its own; the relay package's per-credential and session caps bound what that
// costs.

// relayGrant is what this node granted for one call.
type relayGrant struct {
	parts []identity.PeerID           // every party of the legs granted, at most MaxParticipants
	legs  map[[2]identity.PeerID]bool // asker, peer
	last  time.Time                   // the latest grant
}

// Bounds of the grant table. maxGrants calls at once is far more than a relay
// with MaxSessions 8 can serve; an entry idle for grantIdle is forgotten when
// room is needed (its credentials, 10-minute TTL, admit no new allocation by
// then; allocations already made end with their client or the session caps).
const (
	maxGrants = 256
	grantIdle = 15 * time.Minute
)

func (m *Manager) count(name string) {
	if m.cfg.Count != nil {
		m.cfg.Count(name)
	}
}

// onRelayAsk serves a caller's request for TURN credentials on this node.
func (m *Manager) onRelayAsk(from identity.PeerID, msg *Message) {
	if m.cfg.IssueRelay == nil {
		return
	}
	peer, ok := m.askedLeg(from, msg)
	if !ok {
		m.count("call_relay_refused_not_participant")
		m.cfg.Log.Info("relay request refused: the asker is not a party of the leg it names", "from", from.Short(), "call", msg.Call)
		return
	}
	var revoke [][2]identity.PeerID
	var old ID
	m.mu.Lock()
	g := m.grants[msg.Call]
	if g != nil {
		parts := g.parts
		for _, p := range []identity.PeerID{from, peer} {
			if !slices.Contains(parts, p) {
				parts = append(slices.Clone(parts), p)
			}
		}
		if len(parts) > MaxParticipants {
			m.mu.Unlock()
			m.count("call_relay_refused_not_participant")
			return
		}
	}
	// One call at a time per asker: a new call's ask ends its grants in the old one.
	if prev, ok := m.grantOf[from]; ok && prev != msg.Call {
		if pg := m.grants[prev]; pg != nil {
			for leg := range pg.legs {
				if leg[0] == from {
					revoke = append(revoke, leg)
					delete(pg.legs, leg)
				}
			}
			if len(pg.legs) == 0 {
				delete(m.grants, prev)
			}
		}
		old = prev
		delete(m.grantOf, from)
	}
	now := m.cfg.Now()
	if g == nil {
		if len(m.grants) >= maxGrants {
			m.pruneGrantsLocked(now)
		}
		if len(m.grants) >= maxGrants {
			m.mu.Unlock()
			m.revokeLegs(old, revoke)
			m.count("call_relay_refused_full")
			return
		}
		g = &relayGrant{legs: map[[2]identity.PeerID]bool{}}
		m.grants[msg.Call] = g
	}
	for _, p := range []identity.PeerID{from, peer} {
		if !slices.Contains(g.parts, p) {
			g.parts = append(g.parts, p)
		}
	}
	g.legs[[2]identity.PeerID{from, peer}] = true
	g.last = now
	m.grantOf[from] = msg.Call
	m.mu.Unlock()
	m.revokeLegs(old, revoke)

	issue := m.cfg.IssueRelay
	if msg.Urgent && m.cfg.IssueUrgentRelay != nil {
		issue = m.cfg.IssueUrgentRelay
		m.count("call_relay_urgent")
	}
	r, err := issue(msg.Call, from, peer)
	if err != nil || r == nil {
		m.cfg.Log.Info("relay request refused", "from", from.Short(), "err", err)
		return
	}
	m.count("call_relay_granted")
	r.Peer = m.cfg.Self
	m.cfg.Send(from, &Message{Kind: KindRelayGrant, Call: msg.Call, Relay: r})
}

// askedLeg checks an ask names one leg: two distinct parties, the asker one of
// them, this node neither. It returns the asker's other party.
func (m *Manager) askedLeg(from identity.PeerID, msg *Message) (identity.PeerID, bool) {
	var none identity.PeerID
	p := msg.Participants
	if len(p) != 2 || p[0] == p[1] || p[0].IsZero() || p[1].IsZero() ||
		slices.Contains(p, m.cfg.Self) || !slices.Contains(p, from) {
		return none, false
	}
	if p[0] == from {
		return p[1], true
	}
	return p[0], true
}

// onRelayRelease ends a leg's relay allocations when one of its parties says
// the leg ended (a hangup naming the leg: asker, peer). It reports whether the
// message was such a release.
func (m *Manager) onRelayRelease(from identity.PeerID, msg *Message) bool {
	if len(msg.Participants) != 2 {
		return false
	}
	leg := [2]identity.PeerID{msg.Participants[0], msg.Participants[1]}
	if from != leg[0] && from != leg[1] {
		return false
	}
	m.mu.Lock()
	g := m.grants[msg.Call]
	if g == nil || !g.legs[leg] {
		m.mu.Unlock()
		return false
	}
	delete(g.legs, leg)
	if len(g.legs) == 0 {
		delete(m.grants, msg.Call)
	}
	if m.grantOf[leg[0]] == msg.Call && !slices.ContainsFunc(keys(g.legs), func(l [2]identity.PeerID) bool { return l[0] == leg[0] }) {
		delete(m.grantOf, leg[0])
	}
	m.mu.Unlock()
	m.count("call_relay_released")
	m.revokeLegs(msg.Call, [][2]identity.PeerID{leg})
	return true
}

func keys(m map[[2]identity.PeerID]bool) [][2]identity.PeerID {
	out := make([][2]identity.PeerID, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (m *Manager) revokeLegs(call ID, legs [][2]identity.PeerID) {
	if m.cfg.RevokeRelay == nil {
		return
	}
	for _, l := range legs {
		m.cfg.RevokeRelay(call, l[0], l[1])
	}
}

// pruneGrantsLocked forgets grants idle for grantIdle.
func (m *Manager) pruneGrantsLocked(now time.Time) {
	for id, g := range m.grants {
		if now.Sub(g.last) < grantIdle {
			continue
		}
		for l := range g.legs {
			if m.grantOf[l[0]] == id {
				delete(m.grantOf, l[0])
			}
		}
		delete(m.grants, id)
	}
}
