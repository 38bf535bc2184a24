package call

import (
	"errors"
	"fmt"
	"parley/internal/randid"

	"parley/identity"
	"parley/internal/wire"
)

// TypeCall is the overlay frame type of call signalling: a sealed envelope
// (internal/seal) holding one Message, sent direct or routed (package doc).
const TypeCall = wire.FrameCall

// Version is the signalling format version this package writes.
const Version = 1

// MaxMessage bounds a signalling message; SDP for one audio track is ~1–3 KiB.
const MaxMessage = 32 << 10

// Kind is what a signalling message says.
type Kind uint8

const (
	KindInvite     Kind = 1 // caller → callee: offer SDP, optional relay
	KindRinging    Kind = 2 // callee → caller: the invite reached a person
	KindAccept     Kind = 3 // callee → caller: answer SDP
	KindDecline    Kind = 4 // callee → caller
	KindBusy       Kind = 5 // callee → caller: already in a call
	KindCancel     Kind = 6 // caller → callee: hung up before an answer (or ring timeout)
	KindHangup     Kind = 7 // either way
	KindCandidate  Kind = 8 // either way: one trickled ICE candidate
	KindRelayAsk   Kind = 9 // caller → relay peer: credentials for this call, please
	KindRelayGrant Kind = 10
	KindDTMF       Kind = 11 // either way: keypad digits (dtmf.go)
	KindHold       Kind = 12 // either way: the sender held or resumed the call (hold.go)
)

var kindNames = map[Kind]string{
	KindInvite: "invite", KindRinging: "ringing", KindAccept: "accept", KindDecline: "decline",
	KindBusy: "busy", KindCancel: "cancel", KindHangup: "hangup", KindCandidate: "candidate",
	KindRelayAsk: "relay_ask", KindRelayGrant: "relay_grant", KindDTMF: "dtmf", KindHold: "hold",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ID identifies a call.
type ID = randid.ID

// NewID returns a random call ID.
func NewID() ID { return randid.New() }

// ParseID reads the hex form ID.String writes.
func ParseID(s string) (ID, error) { return randid.Parse("call id", s) }

// Relay is a TURN relay offered for one call.
type Relay struct {
	Peer     identity.PeerID
	URLs     []string // turn:IP:PORT?transport=udp, one per address of the relay peer
	Username string
	Password string
}

// Message is one signalling message.
type Message struct {
	Kind      Kind
	Call      ID
	SDP       string
	Candidate string
	Reason    string
	Relay     *Relay
	// Participants lists a group call's members (the sender included).
	Participants []identity.PeerID
	// Mixer is the participant that mixes a group call too large for a full
	// mesh (zero: mesh).
	Mixer identity.PeerID
	// Urgent marks an invite to an urgent call (issue 24): a callee already in
	// a call rings instead of answering busy.
	Urgent bool
	// Digits are a KindDTMF message's keypad digits (0-9 * # A-D, ≤ 32).
	Digits string
	// Hold is a KindHold message's HoldOn or HoldOff (0: absent).
	Hold uint8
}

const (
	tagSDP         = 1
	tagCandidate   = 2
	tagReason      = 3
	tagRelayPeer   = 4
	tagRelayURL    = 5
	tagRelayUser   = 6
	tagRelayPass   = 7
	tagParticipant = 8
	tagMixer       = 9
	tagUrgent      = 10
	tagDigits      = 11
	tagHold        = 12
	headerLen      = 2 + 16
)

// Encode writes m in the format of the package doc.
func (m *Message) Encode() ([]byte, error) {
	w := wire.Writer{B: make([]byte, 0, 256+len(m.SDP))}
	w.U8(Version)
	w.U8(uint8(m.Kind))
	w.Raw(m.Call[:])
	field := func(tag uint8, v []byte) {
		w.U8(tag)
		w.Bytes16(v)
	}
	if m.SDP != "" {
		field(tagSDP, []byte(m.SDP))
	}
	if m.Candidate != "" {
		field(tagCandidate, []byte(m.Candidate))
	}
	if m.Reason != "" {
		field(tagReason, []byte(m.Reason))
	}
	if r := m.Relay; r != nil {
		field(tagRelayPeer, r.Peer[:])
		for _, u := range r.URLs {
			field(tagRelayURL, []byte(u))
		}
		field(tagRelayUser, []byte(r.Username))
		field(tagRelayPass, []byte(r.Password))
	}
	for _, p := range m.Participants {
		field(tagParticipant, p[:])
	}
	if !m.Mixer.IsZero() {
		field(tagMixer, m.Mixer[:])
	}
	if m.Urgent {
		field(tagUrgent, []byte{1})
	}
	if m.Digits != "" {
		field(tagDigits, []byte(m.Digits))
	}
	if m.Hold != 0 {
		field(tagHold, []byte{m.Hold})
	}
	if len(w.B) > MaxMessage {
		return nil, fmt.Errorf("call %s message is %d bytes, limit %d", m.Kind, len(w.B), MaxMessage)
	}
	return w.B, nil
}

// ErrMalformed wraps every decoding failure.
var ErrMalformed = errors.New("malformed call message")

// Decode parses a message written by Encode (of this or a later version with
// added tags).
func Decode(b []byte) (*Message, error) {
	if len(b) > MaxMessage {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	if len(b) < headerLen {
		return nil, fmt.Errorf("%w: %d bytes, header is %d", ErrMalformed, len(b), headerLen)
	}
	if b[0] != Version {
		return nil, fmt.Errorf("%w: version %d", ErrMalformed, b[0])
	}
	m := &Message{Kind: Kind(b[1])}
	if _, ok := kindNames[m.Kind]; !ok {
		return nil, fmt.Errorf("%w: kind %d", ErrMalformed, b[1])
	}
	copy(m.Call[:], b[2:headerLen])
	r := wire.NewReader(b[headerLen:])
	for r.Len() > 0 && r.Err == nil {
		tag := r.U8()
		v := r.Bytes16()
		if r.Err != nil {
			break
		}
		if err := m.setField(tag, v); err != nil {
			return nil, err
		}
	}
	if r.Err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, r.Err)
	}
	return m, nil
}

func (m *Message) setField(tag uint8, v []byte) error {
	relay := func() *Relay {
		if m.Relay == nil {
			m.Relay = &Relay{}
		}
		return m.Relay
	}
	id := func() (identity.PeerID, error) {
		var p identity.PeerID
		if len(v) != len(p) {
			return p, fmt.Errorf("%w: tag %d has %d bytes, want %d", ErrMalformed, tag, len(v), len(p))
		}
		copy(p[:], v)
		return p, nil
	}
	switch tag {
	case tagSDP:
		m.SDP = string(v)
	case tagCandidate:
		m.Candidate = string(v)
	case tagReason:
		m.Reason = string(v)
	case tagRelayPeer:
		p, err := id()
		if err != nil {
			return err
		}
		relay().Peer = p
	case tagRelayURL:
		r := relay()
		if len(r.URLs) >= 16 {
			return fmt.Errorf("%w: more than 16 relay URLs", ErrMalformed)
		}
		r.URLs = append(r.URLs, string(v))
	case tagRelayUser:
		relay().Username = string(v)
	case tagRelayPass:
		relay().Password = string(v)
	case tagUrgent:
		if len(v) != 1 || v[0] != 1 {
			return fmt.Errorf("%w: urgent flag of %d bytes", ErrMalformed, len(v))
		}
		m.Urgent = true
	case tagHold:
		if len(v) != 1 || (v[0] != HoldOn && v[0] != HoldOff) {
			return fmt.Errorf("%w: hold field %x", ErrMalformed, v)
		}
		m.Hold = v[0]
	case tagDigits:
		if !ValidDigits(string(v)) {
			return fmt.Errorf("%w: dtmf digits %q", ErrMalformed, v)
		}
		m.Digits = string(v)
	case tagMixer:
		p, err := id()
		if err != nil {
			return err
		}
		m.Mixer = p
	case tagParticipant:
		p, err := id()
		if err != nil {
			return err
		}
		if len(m.Participants) >= MaxParticipants {
			return fmt.Errorf("%w: more than %d participants", ErrMalformed, MaxParticipants)
		}
		m.Participants = append(m.Participants, p)
	}
	return nil
}

// MaxParticipants bounds a group call (the 3–6 participants).
const MaxParticipants = 6
