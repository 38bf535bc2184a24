package node

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"parley/identity"
	"parley/internal/courier"
	"parley/media/call"
	"parley/media/relay"
	"parley/overlay"
)

// TypeCall is the overlay frame type of call signalling, owned by media/call;
// kept here for the node's callers (itest).
const TypeCall = call.TypeCall

// setupCalls starts this node's TURN relay and call manager and registers the
// signalling frame handlers.
func (n *Node) setupCalls() error {
	var err error
	if n.cfg.guest == nil { // a guest's node relays for nobody (guestnode.go)
		n.turn, err = relay.New(relay.Config{
			Addrs: n.relayAddrs(), Port: n.cfg.RelayPort, MaxSessions: n.cfg.RelaySessions,
			MaxBitsPerSecond: n.cfg.RelayBitsPerSecond, Now: n.cfg.Now, Log: n.log,
		})
	}
	if err != nil {
		// Calls still work without serving as a relay for others.
		n.log.Warn("TURN relay not started", "err", err)
		n.turn = nil
	}
	if n.callSealed, err = n.newCallCourier(); err != nil {
		return fmt.Errorf("calls: %w", err)
	}
	n.loadAudio()
	n.calls, err = call.New(call.Config{
		Self:            n.id.ID,
		Send:            n.sendCallMessage,
		OpenAudio:       n.openCallAudio,   // sounds.go: the sounds mixed in
		Passthrough:     n.opusPassthrough, // devicemedia.go: a phone speaking Opus
		NeedsRelay:      func(p identity.PeerID) bool { return !n.ov.Linked(p) },
		RelayCandidates: n.voiceRelays,
		IssueRelay:      n.issueRelay,
		IssueUrgentRelay: func(id call.ID, asker, peer identity.PeerID) (*call.Relay, error) {
			return n.issueRelayWith(id, asker, peer, true)
		},
		RevokeRelay: n.revokeRelay,
		Count:       func(name string) { n.stats.Add(name, 1) },
		Interfaces:  n.keepIfaceName,
		RankMixers:  n.rankMixers,
		RingTimeout: n.cfg.RingTimeout,
		Emit:        n.onCall,
		Log:         n.log,
		Now:         n.cfg.Now,

		// One P during a call: pion's per-packet hand-offs otherwise wake a
		// thread each (media/call/oneproc.go).
		OneProcInCalls: true,
	})
	if err != nil {
		return err
	}
	n.ov.Handle(TypeCall, func(from identity.PeerID, p []byte) { n.onCallFrame(from, p) })
	n.ov.HandleRouted(TypeCall, func(src, _ identity.PeerID, p []byte) { n.onCallFrame(src, p) })
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// relayAddrs are the IPv4 addresses the TURN relay serves on: those this node
// advertises to its peers.
func (n *Node) relayAddrs() []netip.Addr {
	var out []netip.Addr
	if n.disc == nil {
		return out
	}
	for _, a := range n.disc.LocalAddrs() {
		if a.Is4() && !a.IsLoopback() {
			out = append(out, a)
		}
	}
	return out
}

// callNames are the call counters on the shared secure-send path.
var callNames = courier.Counters{Blocked: "call_drop_blocked", Unsealable: "call_drop_unsealed", Mismatch: "call_drop_sender"}

// newCallCourier makes the secure-send path of call signalling. Calls are live
// (courier.Live): a call message is only ever from its author, so a sealed
// sender other than the link peer or routed source is dropped
// (docs/security.md, "The sealed sender decides").
func (n *Node) newCallCourier() (*courier.Courier, error) {
	return courier.New(courier.Config{
		Identity: n.id, Net: overlayNet{n.ov}, Sealed: TypeCall, Policy: courier.Live,
		Blocked: func(p identity.PeerID) bool { return n.trust.isBlocked(p) },
		Stats:   &n.stats, Names: callNames, Log: n.log,
	})
}

// sendCallMessage seals m to peer (signed by us, readable only by peer) and
// sends it however peer can be reached: call signalling is always sealed, on
// a direct link too (courier.SendSealed).
func (n *Node) sendCallMessage(peer identity.PeerID, m *call.Message) error {
	b, err := m.Encode()
	if err != nil {
		return err
	}
	err = n.callSealed.SendSealed(peer, b)
	if err == nil && m.Kind == call.KindRelayAsk {
		n.relayAsked(peer, m.Call)
	}
	switch {
	case errors.Is(err, courier.ErrNoKey):
		return fmt.Errorf("call signalling to %s: %w", peer.Short(), overlay.ErrUnreachable)
	case err != nil:
		return fmt.Errorf("call signalling to %s: %w", peer.Short(), err)
	}
	return nil
}

// onCallFrame opens a sealed call message under the policy of package
// internal/courier: the sealed sender, not the routed source, is who it is
// from; a sealed sender that differs from the link peer or routed source is
// dropped (call_drop_sender), and so is everything a blocked peer sends or
// signs (call_drop_blocked), however it was routed.
func (n *Node) onCallFrame(src identity.PeerID, env []byte) {
	f, err := n.callSealed.Open(src, src, env)
	if err != nil {
		return // counted by the courier
	}
	m, err := call.Decode(f.Body)
	if err != nil {
		n.stats.Add("call_drop_malformed", 1)
		return
	}
	if m.Kind == call.KindRelayGrant && m.Relay != nil {
		n.relayGranted(f.Sender, m.Call)
	}
	n.calls.Handle(f.Sender, m)
}

// voiceRelays ranks relay candidates for a call to peer (selection's voice
// purpose over everyone's published link quality), best first.
func (n *Node) voiceRelays(peer identity.PeerID) []identity.PeerID {
	choice, err := n.Relays("voice", []string{peer.String()})
	if err != nil {
		return nil
	}
	var out []identity.PeerID
	// The held choice first, if it is still online: a relay just lost stays
	// chosen (hysteresis) until the ranking moves on, and asking it would
	// cost a failover one ask's timeout (media/call/relayfailover.go).
	if id, err := identity.ParsePeerID(choice.Chosen); err == nil && n.ov.Online(id) {
		out = append(out, id)
	}
	for _, r := range choice.Ranking {
		if id, err := identity.ParsePeerID(r.ID); err == nil && !slices.Contains(out, id) && n.ov.Online(id) {
			out = append(out, id)
		}
	}
	return out
}

// relayHolder names a call leg in a TURN credential: the asker, then its peer.
// Peer IDs are lower-case base32, so the '.' keeps the two apart and the
// result is a valid holder field (at most 128 bytes of [A-Za-z0-9._-]).
func relayHolder(asker, peer identity.PeerID) string { return asker.String() + "." + peer.String() }

// issueRelay grants one call leg (asker to peer) credentials on this node's
// TURN relay, with one URL per address so each side allocates where it reaches
// us. The call manager decided the asker is a party of the leg (relaygrant.go).
func (n *Node) issueRelay(id call.ID, asker, peer identity.PeerID) (*call.Relay, error) {
	return n.issueRelayWith(id, asker, peer, false)
}

// issueRelayWith is issueRelay; urgent credentials may exceed the relay's
// session cap (media/relay/urgent.go: an urgent call gets through at the cap).
func (n *Node) issueRelayWith(id call.ID, asker, peer identity.PeerID, urgent bool) (*call.Relay, error) {
	if n.turn == nil {
		return nil, fmt.Errorf("this node runs no relay")
	}
	addrs := n.relayAddrs()
	if err := n.turn.SetAddrs(addrs); err != nil {
		return nil, err
	}
	issue := n.turn.Issue
	if urgent {
		issue = n.turn.IssueUrgent
	}
	cred := issue(id.String(), relayHolder(asker, peer))
	r := &call.Relay{Peer: n.id.ID, Username: cred.Username, Password: cred.Password}
	for _, a := range addrs {
		r.URLs = append(r.URLs, fmt.Sprintf("turn:%s?transport=udp", net.JoinHostPort(a.String(), fmt.Sprint(n.turn.Port()))))
	}
	if len(r.URLs) == 0 {
		return nil, fmt.Errorf("no address to relay on")
	}
	return r, nil
}

// revokeRelay ends a call leg's allocations on this node's TURN relay.
func (n *Node) revokeRelay(id call.ID, asker, peer identity.PeerID) {
	if n.turn != nil {
		n.turn.RevokeHolder(id.String(), relayHolder(asker, peer))
	}
}

// onCall turns call manager events into node events.
func (n *Node) onCall(ev call.Event) {
	n.noteCallRelay(ev) // relayrep.go
	switch e := ev.(type) {
	case call.Incoming:
		out := CallIncoming{Call: e.Call.String(), From: e.From.String(), Name: n.nameOf(e.From), Urgent: e.Urgent}
		if len(e.Participants) > 2 {
			for _, p := range e.Participants {
				out.Participants = append(out.Participants, p.String())
			}
		}
		if !e.Relay.IsZero() {
			out.Relay = e.Relay.String()
		}
		n.emit(out)
	case call.StateChanged:
		n.emit(CallState{Call: e.Call.String(), Peer: e.Peer.String(), State: string(e.State), Reason: e.Reason, Outgoing: e.Outgoing})
	case call.Stats:
		out := CallStats{
			Call: e.Call.String(), Peer: e.Peer.String(), RTTms: ms(e.RTT), Loss: e.Loss, JitterMs: ms(e.Jitter),
			Codec: e.Codec, Path: e.Path, SetupMs: ms(e.SetupTime), FramesPlayed: e.FramesPlayed,
			Concealed: e.Concealed, Recovered: e.Recovered, Stretched: e.Stretched, Skipped: e.Skipped, FramesSent: e.FramesSent, FECLoss: e.FECLoss, Muted: e.Muted, Level: e.Level,
		}
		if !e.Relay.IsZero() {
			out.Relay, out.RelayName = e.Relay.String(), n.nameOf(e.Relay)
		}
		n.emit(out)
	case call.DTMF:
		n.onDTMF(e)
	case call.Held:
		n.onHeld(e) // devicemediahold.go
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (n *Node) nameOf(id identity.PeerID) string {
	if rec := n.ov.RecordOf(id); rec != nil {
		return rec.Name
	}
	return ""
}

// Call rings one peer, or several for a group call; progress arrives as
// call_state events.
func (n *Node) Call(peers ...string) (string, error) { return n.call(false, peers) }

func (n *Node) call(urgent bool, peers []string) (string, error) {
	var ids []identity.PeerID
	for _, p := range peers {
		id, err := identity.ParsePeerID(p)
		if err != nil {
			return "", fmt.Errorf("call: %w", err)
		}
		if !n.ov.Online(id) {
			return "", fmt.Errorf("call %s: peer is not online", id.Short())
		}
		ids = append(ids, id)
	}
	place := n.calls.Call
	if urgent {
		place = n.calls.CallUrgent
	}
	c, err := place(ids...)
	if err != nil {
		return "", err
	}
	return c.String(), nil
}

// rankMixers ranks the participants of a large group call for mixing, best
// first: the selection package's call-mixer ranking over the participants
// themselves (sum of RTTs to the others, spare bandwidth, CPU, power). The
// first mixes; the rest is the order in which they replace it if it is lost
// (media/call/mixerfailover.go). Empty: this node mixes.
func (n *Node) rankMixers(parts []identity.PeerID) []identity.PeerID {
	var others []string
	for _, p := range parts {
		if p != n.id.ID {
			others = append(others, p.String())
		}
	}
	choice, err := n.Relays("mixer", others)
	if err != nil {
		return nil
	}
	ranked := slices.Clone(choice.Ranking)
	slices.SortStableFunc(ranked, func(a, b RankedRelay) int { return cmp.Compare(a.Cost, b.Cost) })
	var out []identity.PeerID
	for _, r := range ranked {
		id, err := identity.ParsePeerID(r.ID)
		if err == nil && slices.Contains(parts, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (n *Node) callID(s string) (call.ID, error) { return call.ParseID(s) }

// Answer accepts a ringing call.
func (n *Node) Answer(id string) error {
	c, err := n.callID(id)
	if err != nil {
		return err
	}
	return n.calls.Answer(c)
}

// Decline refuses a ringing call.
func (n *Node) Decline(id string) error {
	c, err := n.callID(id)
	if err != nil {
		return err
	}
	return n.calls.Decline(c)
}

// Hangup ends (or cancels) a call.
func (n *Node) Hangup(id string) error {
	c, err := n.callID(id)
	if err != nil {
		return err
	}
	return n.calls.Hangup(c)
}

// Mute stops or resumes sending our audio in a call.
func (n *Node) Mute(id string, on bool) error {
	c, err := n.callID(id)
	if err != nil {
		return err
	}
	return n.calls.Mute(c, on)
}

// Calls lists the calls in progress.
func (n *Node) Calls() []CallInfo {
	var out []CallInfo
	for _, c := range n.calls.Active() {
		ci := CallInfo{Call: c.Call.String(), Peer: c.Peer.String(), Name: n.nameOf(c.Peer), State: string(c.State), Outgoing: c.Outgoing}
		if len(c.Participants) > 2 {
			for _, p := range c.Participants {
				ci.Participants = append(ci.Participants, p.String())
			}
		}
		if !c.Mixer.IsZero() {
			ci.Mixer = c.Mixer.String()
		}
		out = append(out, ci)
	}
	return out
}
