package call

import (
	"net"
	"slices"
	"strings"
	"time"

	"github.com/pion/webrtc/v3"
)

// statsLoop reports each active leg's figures every StatsEvery while the call
// lasts.
func (c *call) statsLoop() {
	t := time.NewTicker(c.m.cfg.StatsEvery)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			for _, l := range c.legList() {
				if l.isActive() {
					c.m.cfg.Emit(l.stats())
				}
			}
		}
	}
}

// stats collects one leg's Stats report.
func (l *leg) stats() Stats {
	c := l.c
	c.mu.Lock()
	a, muted, invited := c.audio, c.muted, c.invited
	c.mu.Unlock()
	l.mu.Lock()
	pc, lm, relay := l.pc, l.media, l.relay
	s := Stats{Call: c.id, Peer: l.peer, Codec: "opus/48000", Muted: muted}
	if !l.firstAudio.IsZero() {
		s.SetupTime = l.firstAudio.Sub(invited)
	}
	l.mu.Unlock()
	if lm != nil {
		rs := lm.recv.Stats()
		s.Loss, s.Jitter = rs.LossFraction, rs.Jitter
		s.FramesPlayed, s.Concealed, s.Recovered = rs.FramesPlayed, rs.Concealed, rs.Recovered
		s.Stretched, s.Skipped = rs.Buffer.Stretched, rs.Buffer.Skipped
		s.Level = rs.Level
	}
	if a != nil {
		s.FramesSent = a.sent.Load()
		if a.enc != nil {
			s.FECLoss = a.enc.fec.expectedLoss()
		}
	}
	if lm != nil && lm.enc != nil {
		s.FECLoss = lm.enc.fec.expectedLoss()
	}
	if pc == nil {
		return s
	}
	// Audio-only calls have no SCTP transport; the ICE transport is reached
	// through the (one) sender's DTLS transport.
	for _, snd := range pc.GetSenders() {
		ice := snd.Transport().ICETransport()
		if pair, err := ice.GetSelectedCandidatePair(); err == nil && pair != nil {
			local, remote := candidateKind(pair.Local, relay), candidateKind(pair.Remote, relay)
			s.Path = local + "/" + remote
			if relay != nil && (local == "relay" || remote == "relay") {
				s.Relay = relay.Peer
			}
		}
		if ps, ok := ice.GetSelectedCandidatePairStats(); ok {
			s.RTT = time.Duration(ps.CurrentRoundTripTime * float64(time.Second))
		}
		break
	}
	return s
}

// candidateKind names a selected candidate's type for Stats.Path. A peer's relayed
// address that connectivity checks reached before its trickled candidate arrived
// shows up as peer-reflexive; on the relay's own address it is the relay.
func candidateKind(c *webrtc.ICECandidate, relay *Relay) string {
	if c.Typ == webrtc.ICECandidateTypePrflx && relay != nil && slices.Contains(relayHosts(relay), c.Address) {
		return webrtc.ICECandidateTypeRelay.String()
	}
	return c.Typ.String()
}

// relayHosts are the addresses in a relay's TURN URLs (turn:HOST:PORT?transport=udp).
func relayHosts(r *Relay) []string {
	var out []string
	for _, u := range r.URLs {
		rest, ok := strings.CutPrefix(u, "turn:")
		if !ok {
			continue
		}
		rest, _, _ = strings.Cut(rest, "?")
		if host, _, err := net.SplitHostPort(rest); err == nil {
			out = append(out, host)
		}
	}
	return out
}
