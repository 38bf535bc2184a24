package node

import (
	"time"

	"parley/store"
)

// Event is anything the node reports; EventName is the headless event name.
type Event interface{ EventName() string }

// PeerView is what the node knows about a peer, as shown in the roster.
type PeerView struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Presence    string     `json:"presence"` // available, away, busy, or offline
	Status      string     `json:"status"`
	Online      bool       `json:"online"`
	Direct      bool       `json:"direct"` // a direct link exists
	Fingerprint string     `json:"fingerprint"`
	Addrs       []string   `json:"addrs,omitempty"`
	RTTMicros   int64      `json:"rtt_us,omitempty"` // smoothed RTT of the direct link
	Neighbours  []string   `json:"neighbours,omitempty"`
	LastSeen    *time.Time `json:"last_seen,omitempty"`
	// Quality is what the peer publishes about its links and machine.
	Quality *PublishedQuality `json:"quality,omitempty"`
	// Verified: the user compared safety numbers. Blocked: cut off by the user.
	Verified bool `json:"verified"`
	Blocked  bool `json:"blocked,omitempty"`
	// WebFingerprint is the SHA-256 of the peer's guest-page certificate, from
	// its signed record (node/webcert.go): what a guest compares.
	WebFingerprint string `json:"web_fingerprint,omitempty"`
	// Guest: a browser guest hosted by Via (a peer ID); shown only when the
	// guest's record and its host's agree (node/guestsrecord.go).
	Guest bool   `json:"guest,omitempty"`
	Via   string `json:"via,omitempty"`
	// SIP: a phone registered with Via's SIP registrar (node/devices.go).
	SIP bool `json:"sip,omitempty"`
}

// PublishedQuality is a peer's published link quality (see selection.SelfMetrics).
type PublishedQuality struct {
	Power         string          `json:"power"`
	LinkType      string          `json:"link_type"`
	CPULoad       float32         `json:"cpu_load"`
	SpareUpKbps   uint32          `json:"spare_up_kbps"`
	SpareDownKbps uint32          `json:"spare_down_kbps"`
	RelaySessions uint16          `json:"relay_sessions"`
	RelayKbps     uint32          `json:"relay_kbps"`
	CoordError    float64         `json:"coord_error"`
	Links         []PublishedLink `json:"links"`
}

// PublishedLink is one of a peer's measured links.
type PublishedLink struct {
	Peer     string  `json:"peer"`
	RTTus    int64   `json:"rtt_us"`
	RTTVarUs int64   `json:"rttvar_us"`
	JitterUs int64   `json:"jitter_us"`
	Loss     float32 `json:"loss"`
}

// Ready is emitted once the node is running.
type Ready struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Fingerprint string   `json:"fingerprint"`
	PubKey      []byte   `json:"pubkey"` // Ed25519 public key (base64); the ID is its hash
	Addrs       []string `json:"addrs"`
	Port        uint16   `json:"port"`
	// Team is a short public hint of the team key when the node is in a closed
	// team (so members can tell two teams apart); empty on an open network.
	Team string `json:"team,omitempty"`
	// WebFingerprint is the guest page's certificate fingerprint (webcert.go);
	// empty when the node serves no guest page.
	WebFingerprint string `json:"web_fingerprint,omitempty"`
}

// PeerUp: a peer became reachable.
type PeerUp struct {
	Peer PeerView `json:"peer"`
}

// PeerDown: a peer left (goodbye) or was lost (crash, partition).
type PeerDown struct {
	Peer   PeerView `json:"peer"`
	Reason string   `json:"reason"` // "goodbye" or "lost"
}

// PresenceChanged: a reachable peer changed presence, status text or name.
type PresenceChanged struct {
	Peer PeerView `json:"peer"`
}

// QualityChanged: a reachable peer published new link-quality figures (its name
// and presence are unchanged; those come as PresenceChanged).
type QualityChanged struct {
	Peer PeerView `json:"peer"`
}

// MessageReceived: a new message arrived (and was acknowledged after commit).
type MessageReceived struct {
	ID   string    `json:"id"`
	From string    `json:"from"`
	Text string    `json:"text"`
	Sent time.Time `json:"sent"`
}

// MessageDelivered: the recipient committed a message we sent.
type MessageDelivered struct {
	ID string `json:"id"`
	To string `json:"to"`
}

// RoomMessage: a new message in a joined room.
type RoomMessage struct {
	Room string    `json:"room"`
	ID   string    `json:"id"`
	From string    `json:"from"`
	Text string    `json:"text"`
	Sent time.Time `json:"sent"`
}

// MessagesRead: a peer read messages we sent.
type MessagesRead struct {
	IDs []string `json:"ids"`
	By  string   `json:"by"`
}

// MessageQueued: a message waits in the outbox for an absent peer.
type MessageQueued struct {
	ID string `json:"id"`
	To string `json:"to"`
}

// RoomUpdate: a room appeared, or its topic or members changed.
type RoomUpdate struct {
	Room Room `json:"room"`
}

// ErrorEvent reports a failure not tied to a command's return value.
type ErrorEvent struct {
	Reason string `json:"reason"`
}

func (Ready) EventName() string            { return "ready" }
func (PeerUp) EventName() string           { return "peer_up" }
func (PeerDown) EventName() string         { return "peer_down" }
func (PresenceChanged) EventName() string  { return "presence" }
func (QualityChanged) EventName() string   { return "peer_quality" }
func (MessageReceived) EventName() string  { return "message" }
func (MessageDelivered) EventName() string { return "delivered" }
func (RoomMessage) EventName() string      { return "room_message" }
func (MessagesRead) EventName() string     { return "read" }
func (MessageQueued) EventName() string    { return "queued" }
func (RoomUpdate) EventName() string       { return "room_update" }
func (ErrorEvent) EventName() string       { return "error" }

func messageEvent(m store.Message) MessageReceived {
	return MessageReceived{ID: m.ID, From: m.From, Text: m.Text, Sent: m.Time}
}

// CallIncoming: a peer is calling; answer or decline it by Call.
type CallIncoming struct {
	Call  string `json:"call"`
	From  string `json:"from"`
	Name  string `json:"name,omitempty"`
	Relay string `json:"relay,omitempty"` // the peer that will relay the media, if any
	// Participants lists a group call's members, the caller first.
	Participants []string `json:"participants,omitempty"`
	// Urgent: an urgent call (node/urgent.go): ring whatever the presence.
	Urgent bool `json:"urgent,omitempty"`
}

// CallState: a call moved to State (calling, ringing, incoming, connecting,
// active, ended); Reason says why it ended.
type CallState struct {
	Call     string `json:"call"`
	Peer     string `json:"peer"`
	State    string `json:"state"`
	Reason   string `json:"reason,omitempty"`
	Outgoing bool   `json:"outgoing"`
}

// CallStats: an active call's figures, once a second.
type CallStats struct {
	Call         string  `json:"call"`
	Peer         string  `json:"peer"`
	RTTms        float64 `json:"rtt_ms"`
	Loss         float64 `json:"loss"`
	JitterMs     float64 `json:"jitter_ms"`
	Codec        string  `json:"codec"`
	Relay        string  `json:"relay,omitempty"` // the relaying peer, when not direct
	RelayName    string  `json:"relay_name,omitempty"`
	Path         string  `json:"path"` // candidate types of the ICE pair in use
	SetupMs      float64 `json:"setup_ms"`
	FramesPlayed uint64  `json:"frames_played"`
	Concealed    uint64  `json:"concealed"`
	Recovered    uint64  `json:"recovered"`
	Stretched    uint64  `json:"stretched"` // frames the jitter buffer played extra
	Skipped      uint64  `json:"skipped"`   // frames it dropped to catch up
	FramesSent   uint64  `json:"frames_sent"`
	// FECLoss is the loss (percent) our encoder's FEC toward this peer is tuned
	// for, from the peer's receiver reports: 0 on a clean link.
	FECLoss int     `json:"fec_loss"`
	Muted   bool    `json:"muted"`
	Level   float64 `json:"level"`
}

// CallInfo is one call in progress (the calls command).
type CallInfo struct {
	Call     string `json:"call"`
	Peer     string `json:"peer"`
	Name     string `json:"name,omitempty"`
	State    string `json:"state"`
	Outgoing bool   `json:"outgoing"`
	// Participants and Mixer describe a group call.
	Participants []string `json:"participants,omitempty"`
	Mixer        string   `json:"mixer,omitempty"`
}

func (CallIncoming) EventName() string { return "call_incoming" }
func (CallState) EventName() string    { return "call_state" }
func (CallStats) EventName() string    { return "call_stats" }

// KeyChanged: a display name already known from one peer turned up with a
// different key. By construction that is a different peer (IDs are key
// hashes): perhaps a reinstall, perhaps an impostor. Compare safety numbers.
type KeyChanged struct {
	Name        string   `json:"name"`
	Peer        string   `json:"peer"`     // the newcomer
	Previous    []string `json:"previous"` // peers known by that name before
	Fingerprint string   `json:"fingerprint"`
	// PreviousVerified: the user had verified one of the earlier peers, so
	// this one is all the more suspect.
	PreviousVerified bool `json:"previous_verified"`
}

func (KeyChanged) EventName() string { return "key_changed" }

// GuestRequest: a browser asks to join through this node as a guest (Config.Guests
// "ask"); AdmitGuest answers it.
type GuestRequest struct {
	Guest string `json:"guest"` // the guest's peer ID
	Name  string `json:"name"`
	From  string `json:"from"` // the browser's address
}

// GuestChanged: a guest of this node asked, was admitted, came, left or was
// removed; Guest is its state now ("gone" once refused or removed).
type GuestChanged struct {
	Guest GuestView `json:"guest"`
}

func (GuestRequest) EventName() string { return "guest_request" }
func (GuestChanged) EventName() string { return "guest" }
