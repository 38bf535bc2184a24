package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v2"
	"github.com/pion/webrtc/v3"

	"parley/identity"
	"parley/media/audio"
)

// MaxMesh is the largest call run as a full mesh (every participant sends its
// audio to every other); larger calls are mixed by one participant.
const MaxMesh = 4

// Errors the call commands return.
var (
	ErrBusy     = errors.New("already in a call")
	ErrNoCall   = errors.New("no such call")
	ErrBadState = errors.New("call is not in a state for that")
)

// Config wires a Manager to the node.
type Config struct {
	Self identity.PeerID
	// Send delivers a signalling message to a peer; the node seals it (signed,
	// encrypted to the peer) and routes it over the overlay.
	Send func(to identity.PeerID, m *Message) error
	// OpenAudio opens the microphone-side source and speaker-side sink for a call.
	OpenAudio func() (audio.Source, audio.Sink, error)
	// NeedsRelay reports whether media to peer must be relayed (no direct link).
	NeedsRelay func(peer identity.PeerID) bool
	// RelayCandidates ranks the peers that could relay a call to peer, best first
	// (the node uses the selection package's voice-relay purpose).
	RelayCandidates func(peer identity.PeerID) []identity.PeerID
	// IssueRelay answers a relay request with credentials of this node's TURN
	// server for one call leg, asker to peer (relaygrant.go decides whether to
	// ask); nil or an error refuses.
	IssueRelay func(call ID, asker, peer identity.PeerID) (*Relay, error)
	// IssueUrgentRelay, if set, answers a relay request for an urgent call
	// (the ask says so): credentials that may exceed the relay's session cap
	// (media/relay/urgent.go). Nil: IssueRelay answers those too.
	IssueUrgentRelay func(call ID, asker, peer identity.PeerID) (*Relay, error)
	// RevokeRelay ends a leg's allocations on this node's TURN server and
	// refuses its credentials: its parties said it ended, or the asker moved
	// on to another call.
	RevokeRelay func(call ID, asker, peer identity.PeerID)
	// Passthrough, if set, is this node's audio device when it can carry
	// Opus itself (a SIP phone, passthrough.go), else nil.
	Passthrough func() Passthrough
	// Count adds one to a named counter (nil: not counted).
	Count func(name string)
	// ChooseMixer picks the participant that mixes a call larger than MaxMesh
	// (the node uses the selection package's call-mixer purpose); nil or a
	// non-participant means the caller mixes.
	ChooseMixer func(participants []identity.PeerID) identity.PeerID
	// RankMixers ranks the participants for mixing, best first (the node
	// uses the call-mixer purpose). When set, the caller's mixer is the
	// first participant in it (ChooseMixer is not asked), and the ranking
	// travels in the invite (tag 13) so that every participant takes the
	// same order of successors when the mixer is lost (mixerfailover.go).
	RankMixers func(participants []identity.PeerID) []identity.PeerID
	// Interfaces keeps the network interfaces ICE gathers host candidates on
	// (nil: all). Net replaces the OS network (pion vnet in tests).
	Interfaces func(name string) bool
	Net        transport.Net
	// IncludeLoopback lets ICE use loopback candidates (single-host tests).
	IncludeLoopback bool
	// OneProcInCalls runs the process on one P (GOMAXPROCS 1) while a
	// call's audio runs, unless the user set GOMAXPROCS (oneproc.go: why).
	OneProcInCalls bool
	RingTimeout    time.Duration // 30 s
	// StatsEvery is the Stats report period (1 s).
	StatsEvery time.Duration
	Emit       func(Event)
	Log        *slog.Logger
	Now        func() time.Time
}

// Manager runs this node's calls: one at a time, 1:1 or a group of up to
// MaxParticipants.
type Manager struct {
	cfg Config
	ctx context.Context
	end context.CancelFunc
	wg  sync.WaitGroup
	// spawnMu guards closing and every wg.Add (spawn): Close waits only once
	// nothing can start any more.
	spawnMu sync.Mutex
	closing bool

	mu    sync.Mutex
	calls map[ID]*call
	asks  map[ID]chan *Relay // relay requests waiting for a grant
	// askMu makes relay asks one at a time: a grant names only its call, so
	// two asks for one call at once (a mixer's legs moving off one lost
	// relay together, relayfailover.go) would take each other's grants.
	askMu sync.Mutex
	// grants are the call legs this node relays for others, grantOf the call
	// each asker holds grants in (relaygrant.go).
	grants  map[ID]*relayGrant
	grantOf map[identity.PeerID]ID
	// open is every peer connection made and not yet closed. Close closes what
	// is left of it before it waits: a peer connection that outlives its leg (a
	// path through the call state machine that misses one) keeps its RTP and
	// RTCP readers blocked, and Close would wait for them forever.
	open map[*webrtc.PeerConnection]struct{}
	// dtmfDropped counts DTMF digits over the rate bound (dtmf.go).
	dtmfDropped atomic.Uint64
	// holdsDropped counts hold changes over the rate bound (hold.go).
	holdsDropped atomic.Uint64
}

// New returns a Manager; Close ends its calls.
func New(cfg Config) (*Manager, error) {
	if cfg.Send == nil || cfg.OpenAudio == nil {
		return nil, errors.New("call: Send and OpenAudio are required")
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 30 * time.Second
	}
	if cfg.StatsEvery <= 0 {
		cfg.StatsEvery = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Emit == nil {
		cfg.Emit = func(Event) {}
	}
	if cfg.NeedsRelay == nil {
		cfg.NeedsRelay = func(identity.PeerID) bool { return false }
	}
	ctx, end := context.WithCancel(context.Background())
	return &Manager{cfg: cfg, ctx: ctx, end: end, calls: map[ID]*call{}, asks: map[ID]chan *Relay{},
		grants: map[ID]*relayGrant{}, grantOf: map[identity.PeerID]ID{},
		open: map[*webrtc.PeerConnection]struct{}{}}, nil
}

// Close hangs up every call and waits for their goroutines.
func (m *Manager) Close() {
	m.mu.Lock()
	calls := make([]*call, 0, len(m.calls))
	for _, c := range m.calls {
		calls = append(calls, c)
	}
	m.mu.Unlock()
	for _, c := range calls {
		m.finish(c, ReasonShutdown, KindHangup)
	}
	m.end()
	m.mu.Lock()
	left := make([]*webrtc.PeerConnection, 0, len(m.open))
	for pc := range m.open {
		left = append(left, pc)
	}
	m.mu.Unlock()
	if len(left) > 0 {
		m.cfg.Log.Warn("peer connections outlived their calls; closing them", "count", len(left))
	}
	for _, pc := range left {
		m.closePC(pc)
	}
	m.spawnMu.Lock()
	m.closing = true
	m.spawnMu.Unlock()
	m.wg.Wait()
}

// spawn runs f on a goroutine Close waits for; once Close is about to wait it
// runs nothing. A WaitGroup's Add must not race its Wait, and invites, answers
// and leg events keep arriving from the network while the node stops (the race
// detector caught a ring timer started by an invite against Close's Wait in
// TestDeclineBusy). What is not started then has nothing left to do: the
// calls are over and their connections closed.
func (m *Manager) spawn(f func()) {
	m.spawnMu.Lock()
	defer m.spawnMu.Unlock()
	if m.closing {
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f()
	}()
}

// trackPC and closePC keep m.open: every peer connection is made through the
// first and closed through the second.
func (m *Manager) trackPC(pc *webrtc.PeerConnection) {
	m.mu.Lock()
	m.open[pc] = struct{}{}
	m.mu.Unlock()
}

func (m *Manager) closePC(pc *webrtc.PeerConnection) {
	pc.Close()
	m.mu.Lock()
	delete(m.open, pc)
	m.mu.Unlock()
}

// busyLocked reports whether any call is under way.
func (m *Manager) busyLocked() bool {
	for _, c := range m.calls {
		if c.state() != StateEnded {
			return true
		}
	}
	return false
}

// Call rings peers: one for a 1:1 call, up to MaxParticipants-1 for a group.
// It returns at once; progress arrives as events.
func (m *Manager) Call(peers ...identity.PeerID) (ID, error) { return m.call(false, peers) }

// CallUrgent is Call for an urgent call: a callee already in a call rings
// rather than answering busy, and a caller in a call hangs that call up
// first (issue 24).
func (m *Manager) CallUrgent(peers ...identity.PeerID) (ID, error) { return m.call(true, peers) }

func (m *Manager) call(urgent bool, peers []identity.PeerID) (ID, error) {
	self := m.cfg.Self
	parts := []identity.PeerID{self}
	for _, p := range peers {
		if p == self || p.IsZero() || slices.Contains(parts, p) {
			return ID{}, fmt.Errorf("call: cannot call %s", p.Short())
		}
		parts = append(parts, p)
	}
	switch {
	case len(parts) < 2:
		return ID{}, errors.New("call: nobody to call")
	case len(parts) > MaxParticipants:
		return ID{}, fmt.Errorf("call: %d participants, at most %d", len(parts), MaxParticipants)
	}
	var mixer identity.PeerID
	var rank []identity.PeerID
	if len(parts) > MaxMesh {
		mixer = self
		if m.cfg.RankMixers != nil {
			rank = validRank(m.cfg.RankMixers(parts), parts)
		}
		if len(rank) > 0 {
			mixer = rank[0]
		} else if m.cfg.ChooseMixer != nil {
			if c := m.cfg.ChooseMixer(parts); slices.Contains(parts, c) {
				mixer = c
			}
		}
	}
	m.mu.Lock()
	if m.busyLocked() && urgent {
		// An urgent call takes the line from the caller's own calls too.
		m.mu.Unlock()
		m.endOthers(nil)
		m.mu.Lock()
	}
	if m.busyLocked() {
		m.mu.Unlock()
		return ID{}, ErrBusy
	}
	c := newCall(m, NewID(), self, true)
	c.participants, c.mixer, c.urgent, c.rank = parts, mixer, urgent, rank
	c.answeredAt = m.cfg.Now()
	m.calls[c.id] = c
	m.mu.Unlock()
	c.setState(StateCalling)

	for _, p := range parts[1:] {
		if mixer.IsZero() || mixer == self || p == mixer {
			m.dialLeg(c, p)
			continue
		}
		// A mixed call: this participant's audio path is to the mixer, which
		// will offer it a leg once it answers; here it is only rung.
		if err := m.cfg.Send(p, &Message{Kind: KindInvite, Call: c.id, Participants: parts, Mixer: mixer, Urgent: urgent, MixerRank: rank}); err != nil {
			m.cfg.Log.Debug("ring not sent", "call", c.id, "peer", p.Short(), "err", err)
		}
	}
	m.spawn(func() {
		m.ringTimer(c)
	})
	return c.id, nil
}

// dialLeg offers a leg to peer in the background.
func (m *Manager) dialLeg(c *call, peer identity.PeerID) { m.dialLegWith(c, peer, "") }

// dialLegWith is dialLeg with a reason on the invite (ReasonMixerMoved).
func (m *Manager) dialLegWith(c *call, peer identity.PeerID, reason string) {
	l, created := c.addLeg(peer, true)
	if !created {
		return
	}
	m.spawn(func() {
		if err := l.dialWith(reason); err != nil {
			m.cfg.Log.Warn("call leg set-up failed", "call", c.id, "peer", peer.Short(), "err", err)
			m.endLeg(l, ReasonFailed, KindCancel)
		}
	})
}

// answerLeg answers a leg's pending offer in the background.
func (m *Manager) answerLeg(l *leg) {
	m.spawn(func() {
		if err := l.answer(); err != nil {
			m.cfg.Log.Warn("answering a call leg failed", "call", l.c.id, "peer", l.peer.Short(), "err", err)
			m.endLeg(l, ReasonFailed, KindHangup)
		}
	})
}

// ringTimer gives up on what is still unanswered after RingTimeout: the legs
// this caller offered, or this callee's own ringing.
func (m *Manager) ringTimer(c *call) {
	t := time.NewTimer(m.cfg.RingTimeout)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.done:
		return
	}
	if !c.outgoing {
		if c.state() == StateIncoming {
			m.finish(c, ReasonTimeout, KindDecline)
		}
		return
	}
	for _, l := range c.legList() {
		if l.offerer && !l.wasAccepted() {
			m.endLeg(l, ReasonTimeout, KindCancel)
		}
	}
}

// Answer accepts a ringing incoming call.
func (m *Manager) Answer(id ID) error {
	c, err := m.get(id)
	if err != nil {
		return err
	}
	if c.outgoing || !c.transition(StateConnecting, StateIncoming) {
		return fmt.Errorf("answer %s: %w", id, ErrBadState)
	}
	if c.urgent {
		m.endOthers(c) // urgent.go: an urgent call, answered, takes the line
	}
	self := m.cfg.Self
	c.mu.Lock()
	c.answeredAt = m.cfg.Now()
	parts, mixer, host := c.participants, c.mixer, c.host
	var pending []*leg
	for _, l := range c.legs {
		if !l.offerer {
			pending = append(pending, l)
		}
	}
	c.mu.Unlock()
	for _, l := range pending {
		m.answerLeg(l)
	}
	// The legs this participant offers: in a mesh, to every later-joining
	// member with a higher ID (the lower ID of a pair offers); as the mixer,
	// to everyone but the caller, whose offer it has just answered.
	for _, p := range parts {
		if p == self || p == host {
			continue
		}
		if (mixer.IsZero() && self.Less(p)) || mixer == self {
			m.dialLeg(c, p)
		}
	}
	return nil
}

// Decline refuses a ringing incoming call.
func (m *Manager) Decline(id ID) error {
	c, err := m.get(id)
	if err != nil {
		return err
	}
	if c.outgoing || c.state() != StateIncoming {
		return fmt.Errorf("decline %s: %w", id, ErrBadState)
	}
	m.finish(c, ReasonDeclined, KindDecline)
	return nil
}

// Busy refuses a ringing call as busy: the caller's call ends with
// ReasonBusy, not ReasonDeclined (a SIP phone answered 486 Busy Here).
func (m *Manager) Busy(id ID) error {
	c, err := m.get(id)
	if err != nil {
		return err
	}
	if c.outgoing || c.state() != StateIncoming {
		return fmt.Errorf("busy %s: %w", id, ErrBadState)
	}
	m.finish(c, ReasonBusy, KindBusy)
	return nil
}

// Hangup ends a call in any state (an unanswered outgoing call is cancelled,
// an unanswered incoming one declined).
func (m *Manager) Hangup(id ID) error {
	c, err := m.get(id)
	if err != nil {
		return err
	}
	kind := KindHangup
	switch c.state() {
	case StateCalling, StateRinging:
		kind = KindCancel
	case StateIncoming:
		kind = KindDecline
	}
	m.finish(c, ReasonHangup, kind)
	return nil
}

// Mute stops (or resumes) sending this side's audio.
func (m *Manager) Mute(id ID, on bool) error {
	c, err := m.get(id)
	if err != nil {
		return err
	}
	c.setMuted(on)
	return nil
}

// Info describes a call in progress.
type Info struct {
	Call         ID
	Peer         identity.PeerID
	Participants []identity.PeerID
	Mixer        identity.PeerID
	State        State
	Outgoing     bool
}

// Active lists the calls not yet ended.
func (m *Manager) Active() []Info {
	m.mu.Lock()
	calls := make([]*call, 0, len(m.calls))
	for _, c := range m.calls {
		calls = append(calls, c)
	}
	m.mu.Unlock()
	var out []Info
	for _, c := range calls {
		c.mu.Lock()
		if !c.ended {
			out = append(out, Info{Call: c.id, Peer: c.peerLocked(), Participants: slices.Clone(c.participants), Mixer: c.mixer, State: c.st, Outgoing: c.outgoing})
		}
		c.mu.Unlock()
	}
	return out
}

// PeerGone ends the legs to a peer that left the overlay (and the call, if
// nobody else is left in it), and moves the legs it relayed to another path.
func (m *Manager) PeerGone(peer identity.PeerID) {
	m.mu.Lock()
	var calls []*call
	for _, c := range m.calls {
		calls = append(calls, c)
	}
	m.mu.Unlock()
	for _, c := range calls {
		if c.isParticipant(peer) {
			m.participantGone(c, peer, ReasonPeerLost)
		}
		m.relayGone(c, peer) // relayfailover.go: legs it relayed move
	}
}

func (m *Manager) get(id ID) (*call, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.calls[id]
	if c == nil || c.state() == StateEnded {
		return nil, fmt.Errorf("call %s: %w", id, ErrNoCall)
	}
	return c, nil
}

// endLeg closes one leg (telling its peer with kind, unless 0) and counts its
// peer as gone from the call.
func (m *Manager) endLeg(l *leg, reason string, kind Kind) {
	if !l.markEnded() {
		return
	}
	if kind != 0 {
		m.cfg.Send(l.peer, &Message{Kind: kind, Call: l.c.id, Reason: reason})
	}
	m.participantGone(l.c, l.peer, reason)
}

// participantGone drops a participant from c. The call ends here when nobody
// else is left, or when the caller gave up before this side answered; when
// the mixer of a mixed call left, another participant takes over
// (mixerfailover.go), and only if none can does the call end.
func (m *Manager) participantGone(c *call, p identity.PeerID, reason string) {
	c.mu.Lock()
	if c.ended || c.gone[p] {
		c.mu.Unlock()
		return
	}
	c.gone[p] = true
	l := c.legs[p]
	delete(c.legs, p)
	everyone := true
	for _, q := range c.participants {
		if q != m.cfg.Self && !c.gone[q] {
			everyone = false
		}
	}
	hostLeft := p == c.host && c.answeredAt.IsZero()
	mixerLeft := p == c.mixer
	c.mu.Unlock()
	if l != nil {
		l.markEnded()
		l.close()
		c.detachMedia(l)
	}
	if everyone || hostLeft {
		m.finish(c, reason, KindHangup)
		return
	}
	if mixerLeft && !m.mixerLost(c, p) { // mixerfailover.go: another takes over
		m.finish(c, reason, KindHangup)
	}
}

// finish ends c once: tells every participant still in it (kind 0: nobody),
// tears down media and reports the end.
func (m *Manager) finish(c *call, reason string, kind Kind) {
	if !c.end() {
		return
	}
	c.mu.Lock()
	var tell []identity.PeerID
	for _, p := range c.participants {
		if p != m.cfg.Self && !c.gone[p] {
			tell = append(tell, p)
		}
	}
	peer := c.peerLocked()
	c.mu.Unlock()
	if kind != 0 {
		for _, p := range tell {
			if err := m.cfg.Send(p, &Message{Kind: kind, Call: c.id, Reason: reason}); err != nil {
				m.cfg.Log.Debug("could not tell a participant the call ended", "call", c.id, "peer", p.Short(), "err", err)
			}
		}
	}
	c.teardown()
	m.mu.Lock()
	delete(m.calls, c.id)
	m.mu.Unlock()
	m.cfg.Emit(StateChanged{Call: c.id, Peer: peer, State: StateEnded, Reason: reason, Outgoing: c.outgoing})
}
