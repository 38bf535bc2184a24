package call

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"

	"parley/identity"
)

// leg is the peer connection between this node and one other participant.
type leg struct {
	c       *call
	peer    identity.PeerID
	offerer bool // this side sent the offer

	mu            sync.Mutex
	pc            *webrtc.PeerConnection
	ended         bool
	active        bool
	gotAnswer     bool // the peer answered our offer
	restarted     bool // this leg was (or replaces one) retried through a relay
	relay         *Relay
	relayAsked    bool   // relay was chosen before dialling (a move): dial asks none
	moving        bool   // moving off a lost relay (relayfailover.go)
	moves         int    // moves of this leg and the legs it replaced
	released      bool   // the relay was told this leg ended
	remoteOffer   string // the peer's offer, kept until this side answers
	remoteReady   bool   // remote description applied: candidates can be added
	pendingRemote []webrtc.ICECandidateInit
	signalled     bool // our description went out: candidates may follow
	pendingLocal  []string
	firstAudio    time.Time
	media         *legMedia
}

// maxPendingCandidates bounds candidates buffered before a description; a host
// has a handful of interfaces, so more is noise or abuse.
const maxPendingCandidates = 64

func newLeg(c *call, peer identity.PeerID, offerer bool) *leg {
	return &leg{c: c, peer: peer, offerer: offerer}
}

func (l *leg) markEnded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return false
	}
	l.ended = true
	return true
}

func (l *leg) close() {
	l.mu.Lock()
	// Ended first: a peer connection still being created (newPeerConnection)
	// then closes itself instead of outliving the call — its RTP readers would
	// hold Manager.Close forever.
	l.ended = true
	pc := l.pc
	relay := l.relay
	release := relay != nil && !relay.Peer.IsZero() && !l.released
	l.released = l.released || release
	l.mu.Unlock()
	if pc != nil {
		l.c.m.closePC(pc)
	}
	if release {
		l.releaseRelay(relay.Peer)
	}
}

// releaseRelay tells the relay this leg used that it ended, so the relay ends
// the leg's allocations and refuses its credential (relaygrant.go). The
// credential was asked for by the leg's offerer, so the leg is named
// (offerer, answerer). A lost message costs the relay nothing but the
// allocations' own timeout.
func (l *leg) releaseRelay(relay identity.PeerID) {
	m := l.c.m
	leg := []identity.PeerID{m.cfg.Self, l.peer}
	if !l.offerer {
		leg[0], leg[1] = l.peer, m.cfg.Self
	}
	if err := m.cfg.Send(relay, &Message{Kind: KindHangup, Call: l.c.id, Participants: leg}); err != nil {
		m.cfg.Log.Debug("relay not told the leg ended", "call", l.c.id, "relay", relay.Short(), "err", err)
	}
}

// dial makes the offer for this leg and sends it in an invite.
func (l *leg) dial() error { return l.dialWith("") }

// dialWith is dial with a reason on the invite (ReasonRestart for a retry).
func (l *leg) dialWith(reason string) error {
	m := l.c.m
	if !l.relayAsked && m.cfg.NeedsRelay(l.peer) {
		r, err := m.askRelay(l.c.ctx, l.c.id, l.peer)
		if err != nil {
			m.cfg.Log.Warn("no relay for a call to an indirect peer; trying without", "call", l.c.id, "peer", l.peer.Short(), "err", err)
		}
		l.mu.Lock()
		l.relay = r
		l.mu.Unlock()
	}
	pc, err := l.newPeerConnection()
	if err != nil {
		return err
	}
	if err := l.c.attachMedia(l, pc); err != nil {
		return err
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local offer: %w", err)
	}
	l.c.mu.Lock()
	parts, mixer, urgent := l.c.participants, l.c.mixer, l.c.urgent
	l.c.mu.Unlock()
	l.mu.Lock()
	relay := l.relay
	l.mu.Unlock()
	msg := &Message{Kind: KindInvite, Call: l.c.id, SDP: pc.LocalDescription().SDP, Relay: relay, Mixer: mixer, Reason: reason, Urgent: urgent}
	if len(parts) > 2 {
		msg.Participants = parts
	}
	if err := m.cfg.Send(l.peer, msg); err != nil {
		return fmt.Errorf("send invite: %w", err)
	}
	l.flushLocal()
	return nil
}

// answer applies the peer's offer and sends our answer.
func (l *leg) answer() error {
	pc, err := l.newPeerConnection()
	if err != nil {
		return err
	}
	l.mu.Lock()
	offer := l.remoteOffer
	l.mu.Unlock()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fmt.Errorf("apply offer: %w", err)
	}
	l.remoteApplied()
	if err := l.c.attachMedia(l, pc); err != nil {
		return err
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create answer: %w", err)
	}
	if err := pc.SetLocalDescription(ans); err != nil {
		return fmt.Errorf("set local answer: %w", err)
	}
	if err := l.c.m.cfg.Send(l.peer, &Message{Kind: KindAccept, Call: l.c.id, SDP: pc.LocalDescription().SDP}); err != nil {
		return fmt.Errorf("send answer: %w", err)
	}
	l.flushLocal()
	return nil
}

// accepted applies the peer's answer to our offer.
func (l *leg) accepted(sdp string) error {
	l.mu.Lock()
	pc := l.pc
	l.gotAnswer = true
	l.mu.Unlock()
	if pc == nil {
		return fmt.Errorf("answer before the offer was made")
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("apply answer: %w", err)
	}
	l.remoteApplied()
	if relay := l.relayOf(); relay == nil {
		l.c.m.spawn(func() {
			l.c.m.watchConnect(l)
		})
	}
	return nil
}

func (l *leg) relayOf() *Relay {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.relay
}

func (l *leg) isEnded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ended
}

// remoteApplied adds the candidates that arrived before the remote description.
func (l *leg) remoteApplied() {
	l.mu.Lock()
	l.remoteReady = true
	pending, pc := l.pendingRemote, l.pc
	l.pendingRemote = nil
	l.mu.Unlock()
	for _, ci := range pending {
		if err := pc.AddICECandidate(ci); err != nil {
			l.c.m.cfg.Log.Debug("remote candidate refused", "call", l.c.id, "err", err)
		}
	}
}

// decodeCandidate parses a peer's trickled candidate, an ICECandidateInit as JSON.
// An empty candidate line is refused: pion would take it for end-of-candidates, and
// it is the only field pion reads (it parses the line itself when it is added).
func decodeCandidate(js string) (webrtc.ICECandidateInit, error) {
	var ci webrtc.ICECandidateInit
	if err := json.Unmarshal([]byte(js), &ci); err != nil {
		return webrtc.ICECandidateInit{}, fmt.Errorf("candidate json: %w", err)
	}
	if ci.Candidate == "" {
		return webrtc.ICECandidateInit{}, errors.New("candidate json: no candidate line")
	}
	return ci, nil
}

// remoteCandidate adds (or buffers) one trickled candidate of the peer.
func (l *leg) remoteCandidate(js string) {
	ci, err := decodeCandidate(js)
	if err != nil {
		l.c.m.cfg.Log.Debug("remote candidate malformed", "call", l.c.id, "err", err)
		return
	}
	l.mu.Lock()
	if !l.remoteReady || l.pc == nil {
		if len(l.pendingRemote) < maxPendingCandidates {
			l.pendingRemote = append(l.pendingRemote, ci)
		}
		l.mu.Unlock()
		return
	}
	pc := l.pc
	l.mu.Unlock()
	if err := pc.AddICECandidate(ci); err != nil {
		l.c.m.cfg.Log.Debug("remote candidate refused", "call", l.c.id, "err", err)
	}
}

// localCandidate trickles one of our candidates, after our description.
func (l *leg) localCandidate(ic *webrtc.ICECandidate) {
	if ic == nil {
		return // gathering finished
	}
	b, err := json.Marshal(ic.ToJSON())
	if err != nil {
		return
	}
	l.mu.Lock()
	if !l.signalled {
		l.pendingLocal = append(l.pendingLocal, string(b))
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	l.c.m.cfg.Send(l.peer, &Message{Kind: KindCandidate, Call: l.c.id, Candidate: string(b)})
}

// flushLocal marks our description sent and trickles what was gathered meanwhile.
func (l *leg) flushLocal() {
	l.mu.Lock()
	l.signalled = true
	pending := l.pendingLocal
	l.pendingLocal = nil
	l.mu.Unlock()
	for _, js := range pending {
		l.c.m.cfg.Send(l.peer, &Message{Kind: KindCandidate, Call: l.c.id, Candidate: js})
	}
}

// connected marks the leg's media path up.
func (l *leg) connected() {
	l.mu.Lock()
	l.active = true
	l.mu.Unlock()
	l.c.mu.Lock()
	a := l.c.audio
	l.c.mu.Unlock()
	if a != nil {
		a.start()
	}
	l.c.setState(StateActive)
}

func (l *leg) wasAccepted() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gotAnswer
}

func (l *leg) isActive() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.active
}
