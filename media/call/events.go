package call

import (
	"time"

	"parley/identity"
)

// State is where a call is.
type State string

const (
	StateCalling    State = "calling"    // outgoing: invite sent
	StateRinging    State = "ringing"    // outgoing: the callee's device rings
	StateIncoming   State = "incoming"   // incoming: ringing here, waiting for Answer
	StateConnecting State = "connecting" // answered; ICE and DTLS in progress
	StateActive     State = "active"     // audio flows
	StateEnded      State = "ended"
)

// Reasons a call ended (Event Reason).
const (
	ReasonHangup     = "hangup" // this side hung up
	ReasonRemoteHang = "remote_hangup"
	ReasonDeclined   = "declined"
	ReasonBusy       = "busy"
	ReasonCancelled  = "cancelled" // the caller gave up before an answer
	ReasonTimeout    = "timeout"   // nobody answered within RingTimeout
	ReasonPeerLost   = "peer_lost" // the far end vanished mid-call
	ReasonFailed     = "failed"    // ICE/DTLS never connected, or media setup failed
	ReasonShutdown   = "shutdown"
)

// Event is what the manager reports to the node: Incoming, StateChanged or Stats.
type Event interface{ callEvent() }

func (Incoming) callEvent()     {}
func (StateChanged) callEvent() {}
func (Stats) callEvent()        {}

// Incoming reports an invite that is ringing here.
type Incoming struct {
	Call ID
	From identity.PeerID
	// Relay is the peer that will relay the call's media, if the caller chose one.
	Relay identity.PeerID
	// Participants lists everyone in the call, the caller first.
	Participants []identity.PeerID
	// Urgent: an urgent call, ringing even while another call is under way.
	Urgent bool
}

// StateChanged reports a call's new state; Reason is set when it ended.
type StateChanged struct {
	Call   ID
	Peer   identity.PeerID
	State  State
	Reason string
	// Outgoing is true on the caller's side.
	Outgoing bool
}

// Stats is a periodic report on an active call.
type Stats struct {
	Call ID
	Peer identity.PeerID
	// RTT is the ICE round-trip time of the selected candidate pair.
	RTT time.Duration
	// Loss is the fraction of the far end's packets lost before playout
	// (concealed or recovered), Jitter the interarrival jitter.
	Loss   float64
	Jitter time.Duration
	Codec  string
	// Relay is the peer relaying the media (zero when the path is direct), and
	// Path the selected ICE pair's candidate types, e.g. "host/host", "relay/relay".
	Relay identity.PeerID
	Path  string
	// SetupTime is from the invite to the first audio frame played (0 until then).
	SetupTime time.Duration
	// FramesPlayed, Concealed and Recovered count output frames: decoded,
	// concealed by the codec, and rebuilt from the next packet's FEC.
	FramesPlayed, Concealed, Recovered uint64
	// Stretched and Skipped count frames the jitter buffer held back (played
	// one extra) or dropped to move the delay toward its target: each shifts
	// what is heard by one frame.
	Stretched, Skipped uint64
	FramesSent         uint64
	// FECLoss is the expected loss (percent) the encoder feeding this leg
	// tunes its FEC for, following the leg's receiver reports (see fecTuner).
	FECLoss int
	Muted   bool
	// Level is the RMS of the last played frame (0–1), to show that audio arrives.
	Level float64
}
