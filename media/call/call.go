package call

import (
	"context"
	"slices"
	"sync"
	"time"

	"parley/identity"
)

// call is one call as this node sees it: one leg (a peer connection) per
// other participant it exchanges audio with — the callee or caller in a 1:1
// call, every other member of a mesh group call, only the mixer (or, for the
// mixer, everyone) in a larger one.
type call struct {
	m        *Manager
	id       ID
	outgoing bool            // this node placed the call
	host     identity.PeerID // who placed it (self when outgoing)
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{} // closed when the call ended here

	mu           sync.Mutex
	st           State
	ended        bool
	answeredAt   time.Time // zero until this side answered (callee) or placed it (caller)
	participants []identity.PeerID
	mixer        identity.PeerID // zero: full mesh
	legs         map[identity.PeerID]*leg
	gone         map[identity.PeerID]bool // participants that left, declined or vanished
	audio        *callAudio
	muted        bool
	invited      time.Time
	firstAudio   time.Time
	urgent       bool      // an urgent call (Message.Urgent); set before the call is shared
	dtmfRate     perSecond // digits received this second (dtmf.go)
	// After a mixer loss (mixerfailover.go): the successor list, whether this
	// node is still waiting for one to take over, and one ReasonMixerMoved
	// invite that came before this node noticed the loss.
	succ         []identity.PeerID
	seeking      bool
	deferred     *Message
	deferredFrom identity.PeerID
	deferredCand []string  // its trickled candidates, at most maxPendingCandidates
	holdRate     perSecond // hold changes received this second (hold.go)
}

func newCall(m *Manager, id ID, host identity.PeerID, outgoing bool) *call {
	ctx, cancel := context.WithCancel(m.ctx)
	return &call{m: m, id: id, host: host, outgoing: outgoing, ctx: ctx, cancel: cancel,
		done: make(chan struct{}), legs: map[identity.PeerID]*leg{}, gone: map[identity.PeerID]bool{}, invited: m.cfg.Now()}
}

func (c *call) state() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

// peer is the participant a 1:1 call is with (the host for a callee's group
// call): what events name.
func (c *call) peer() identity.PeerID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peerLocked()
}

func (c *call) peerLocked() identity.PeerID {
	if !c.outgoing {
		return c.host
	}
	for _, p := range c.participants {
		if p != c.m.cfg.Self {
			return p
		}
	}
	return identity.PeerID{}
}

func (c *call) group() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.participants) > 2
}

// setState records and reports a new state.
func (c *call) setState(st State) {
	c.mu.Lock()
	if c.ended || c.st == st {
		c.mu.Unlock()
		return
	}
	c.st = st
	peer := c.peerLocked()
	c.mu.Unlock()
	c.m.cfg.Emit(StateChanged{Call: c.id, Peer: peer, State: st, Outgoing: c.outgoing})
}

// transition moves from one of the states in from to to; false otherwise.
func (c *call) transition(to State, from ...State) bool {
	c.mu.Lock()
	if c.ended || !slices.Contains(from, c.st) {
		c.mu.Unlock()
		return false
	}
	c.st = to
	peer := c.peerLocked()
	c.mu.Unlock()
	c.m.cfg.Emit(StateChanged{Call: c.id, Peer: peer, State: to, Outgoing: c.outgoing})
	return true
}

// end marks the call ended; false if it already was.
func (c *call) end() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return false
	}
	c.ended, c.st = true, StateEnded
	close(c.done)
	return true
}

// answered reports whether this side has taken the call (so new legs are
// accepted without asking again).
func (c *call) answered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.answeredAt.IsZero()
}

// legList snapshots the legs.
func (c *call) legList() []*leg {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*leg, 0, len(c.legs))
	for _, l := range c.legs {
		out = append(out, l)
	}
	return out
}

func (c *call) leg(peer identity.PeerID) *leg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.legs[peer]
}

// addLeg returns the leg to peer, creating it.
func (c *call) addLeg(peer identity.PeerID, offerer bool) (*leg, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l := c.legs[peer]; l != nil {
		return l, false
	}
	l := newLeg(c, peer, offerer)
	if c.ended {
		// Too late: teardown has closed the legs it knew. This one is born
		// ended, so it never opens a peer connection, and is not added.
		l.ended = true
		return l, false
	}
	c.legs[peer] = l
	return l, true
}

// teardown stops the call's media and closes every leg.
func (c *call) teardown() {
	c.cancel()
	for _, l := range c.legList() {
		l.close()
	}
	c.mu.Lock()
	a := c.audio
	c.mu.Unlock()
	if a != nil {
		a.close()
	}
}

func (c *call) setMuted(on bool) {
	c.mu.Lock()
	c.muted = on
	a := c.audio
	c.mu.Unlock()
	if a != nil {
		a.setMuted(on)
	}
}

func (c *call) isParticipant(p identity.PeerID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.participants, p)
}
