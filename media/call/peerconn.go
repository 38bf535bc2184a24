package call

import (
	"fmt"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v3"
)

// opusFmtp asks the far end's encoder for in-band FEC and DTX, and says we
// send them (RFC 7587 parameters).
const opusFmtp = "minptime=10;useinbandfec=1;usedtx=1"

// opusCodec is the one codec Parley offers: Opus, 48 kHz (RTP always says 2
// channels for Opus; the stream itself is mono).
var opusCodec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: opusFmtp}

// opusPayloadType is the dynamic RTP payload type Parley offers for Opus.
const opusPayloadType = 111

// newAPI builds the pion API for one leg: Opus only, RTCP reports as the one
// interceptor (see below), host candidates on the allowed interfaces with no
// mDNS obfuscation — peers already know each other's addresses, and waiting
// for mDNS candidates only delays set-up.
func (m *Manager) newAPI() (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: opusPayloadType}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register opus: %w", err)
	}
	// Only the RTCP reports, not pion's defaults: the receiver reports carry
	// the far end's loss of our stream, which tunes the encoder's FEC
	// (fectune.go); sender reports are what RFC 3550 asks of a sender. The
	// defaults' NACK pair is for video (pion offers nack feedback on video
	// only; a retransmitted Opus frame would come after its playout, and FEC
	// covers the loss), yet its generator ticks every 100 ms for each leg; and
	// TWCC feedback serves a bandwidth estimator Parley does not run (one
	// fixed Opus bitrate, no congestion controller reads it). Stats and RTT
	// come from the jitter buffer and the ICE pair, not from interceptors.
	// Dropping both removed 10 timer wake-ups a second per leg and a header
	// parse per packet: cmd/benchcall -probe / -only-baresip re-measure it
	// (docs/benchmarks.md, "Next to baresip").
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("interceptors: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if m.cfg.Interfaces != nil {
		se.SetInterfaceFilter(m.cfg.Interfaces)
	}
	// The system's network, with a stand-in interface where the system lists
	// none (Wine; netfallback.go); tests give a virtual one.
	nw := m.cfg.Net
	if nw == nil {
		nw = systemNet(m.cfg.Log)
	}
	se.SetNet(nw)
	se.SetIncludeLoopbackCandidate(m.cfg.IncludeLoopback)
	// A vanished peer is noticed in ~4 s and given up in 8 s; keepalives every
	// second keep relay permissions fresh.
	se.SetICETimeouts(4*time.Second, 8*time.Second, time.Second)
	// pion waits before nominating a pair that is not host/host, in case a
	// better one succeeds: 1 s for peer-reflexive, 2 s for relayed. On a LAN
	// every check answers in a millisecond or two, and with trickle the
	// answerer's first checks routinely arrive before its candidates do (so
	// the pair starts out peer-reflexive): short waits keep set-up fast.
	se.SetHostAcceptanceMinWait(0)
	se.SetPrflxAcceptanceMinWait(50 * time.Millisecond)
	se.SetSrflxAcceptanceMinWait(100 * time.Millisecond)
	se.SetRelayAcceptanceMinWait(300 * time.Millisecond)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// newPeerConnection creates the leg's peer connection with its callbacks.
func (l *leg) newPeerConnection() (*webrtc.PeerConnection, error) {
	api, err := l.c.m.newAPI()
	if err != nil {
		return nil, err
	}
	cfg := webrtc.Configuration{}
	l.mu.Lock()
	if r := l.relay; r != nil && len(r.URLs) > 0 {
		cfg.ICEServers = []webrtc.ICEServer{{URLs: r.URLs, Username: r.Username, Credential: r.Password, CredentialType: webrtc.ICECredentialTypePassword}}
	}
	l.mu.Unlock()
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	l.c.m.trackPC(pc)
	pc.OnICECandidate(l.localCandidate)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		l.c.m.cfg.Log.Debug("call leg state", "call", l.c.id, "peer", l.peer.Short(), "state", s.String())
		switch s {
		case webrtc.PeerConnectionStateConnected:
			l.connected()
		case webrtc.PeerConnectionStateDisconnected:
			// A relayed path that stopped answering consent checks: move it
			// now rather than wait for failed (relayfailover.go).
			if r := l.relayOf(); r != nil && l.isActive() && l.offerer {
				go l.c.m.moveRelay(l, r.Peer, false)
			}
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			// Closed by us: endLeg is a no-op. Closed or failed under us: the
			// far end or the path went away; tell it in case it can still hear.
			// A leg that never connected may still work through a relay, and
			// a relayed one through another relay (relayfailover.go).
			m := l.c.m
			r := l.relayOf()
			switch {
			case l.isEnded():
			case l.isActive() && r != nil && l.offerer:
				go m.relayPathFailed(l, r.Peer)
			case l.isActive() && r != nil && !l.offerer:
				go m.awaitRestart(l, ReasonPeerLost)
			case l.isActive():
				go m.endLeg(l, ReasonPeerLost, KindHangup)
			case l.canRestart():
				go m.restartLeg(l)
			case !l.offerer && r == nil:
				go m.awaitRestart(l, ReasonFailed)
			default:
				go m.endLeg(l, ReasonFailed, KindHangup)
			}
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { l.receive(t) })
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		l.c.m.closePC(pc)
		return nil, fmt.Errorf("call %s: leg to %s ended during set-up", l.c.id, l.peer.Short())
	}
	l.pc = pc
	l.mu.Unlock()
	return pc, nil
}
