package urgent

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"parley/internal/randid"
	"time"
	"unicode/utf8"

	"parley/identity"
	"parley/internal/wire"
)

// Frame types (internal/wire/registry.go).
const (
	TypeUrgent = wire.FrameUrgent
	TypeAlert  = wire.FrameAlert
)

// Kind is what an urgent body says.
type Kind uint8

const (
	KindMessage Kind = 1
	KindAck     Kind = 2
	KindCancel  Kind = 3
)

// Limits of the wire formats (doc.go).
const (
	version      = 1
	MaxText      = 4096
	MaxAlertText = 1024
	MaxRoom      = 64
	bodyHeader   = 26
	alertHeader  = 60
	// alertHops is the hop budget an alert starts with: more than the longest
	// shortest path of any overlay Parley forms (routed frames use 16 too).
	alertHops = 16
)

// ID names an urgent item.
type ID = randid.ID

// NewID returns a random ID.
func NewID() ID { return randid.New() }

// ParseID reads the hex form ID.String writes.
func ParseID(s string) (ID, error) { return randid.Parse("urgent id", s) }

// Body is one decoded urgent frame body.
type Body struct {
	Kind Kind
	ID   ID
	At   time.Time // millisecond precision
	Room string    // messages only
	Text string    // messages only
}

// EncodeBody writes b in the format of the package doc.
func EncodeBody(b Body) []byte {
	w := wire.Writer{B: make([]byte, 0, bodyHeader+3+len(b.Room)+len(b.Text))}
	w.U8(version)
	w.U8(uint8(b.Kind))
	w.Raw(b.ID[:])
	w.U64(uint64(b.At.UnixMilli()))
	if b.Kind == KindMessage {
		w.Str8(b.Room)
		w.Str16(b.Text)
	}
	return w.B
}

// DecodeBody parses an urgent frame body; it never panics and keeps no
// reference to p.
func DecodeBody(p []byte) (Body, error) {
	var b Body
	r := wire.NewReader(p)
	if v := r.U8(); r.Err == nil && v != version {
		return b, fmt.Errorf("urgent body version %d", v)
	}
	b.Kind = Kind(r.U8())
	copy(b.ID[:], r.Raw(len(b.ID)))
	at := r.U64()
	if r.Err != nil {
		return b, fmt.Errorf("urgent body: %w", r.Err)
	}
	if at > 1<<53 {
		return b, errors.New("urgent body: time out of range")
	}
	b.At = time.UnixMilli(int64(at))
	switch b.Kind {
	case KindAck, KindCancel:
		return b, nil
	case KindMessage:
	default:
		return b, fmt.Errorf("urgent body: kind %d", b.Kind)
	}
	room := r.Bytes8()
	text := r.Bytes16()
	switch {
	case r.Err != nil:
		return b, fmt.Errorf("urgent message: %w", r.Err)
	case len(room) > MaxRoom:
		return b, fmt.Errorf("urgent message: room ID of %d bytes", len(room))
	case len(text) == 0 || len(text) > MaxText:
		return b, fmt.Errorf("urgent message: text of %d bytes", len(text))
	case !utf8.Valid(room) || !utf8.Valid(text):
		return b, errors.New("urgent message: not UTF-8")
	}
	b.Room, b.Text = string(room), string(text)
	return b, nil
}

// Alert is one decoded, verified all-hands alert.
type Alert struct {
	Hops   uint8
	Origin identity.PeerID
	Key    ed25519.PublicKey
	ID     ID
	At     time.Time
	Text   string
}

// SignAlert makes an alert frame payload raised by id.
func SignAlert(id *identity.Identity, aid ID, at time.Time, text string) []byte {
	w := wire.Writer{B: make([]byte, 0, alertHeader+len(text)+ed25519.SignatureSize)}
	w.U8(alertHops)
	w.U8(version)
	w.Raw(id.Public)
	w.Raw(aid[:])
	w.U64(uint64(at.UnixMilli()))
	w.Str16(text)
	return append(w.B, id.SignContext(identity.ContextAlert, w.B[1:])...)
}

// DecodeAlert parses and verifies an alert frame payload; it never panics and
// keeps no reference to p.
func DecodeAlert(p []byte) (Alert, error) {
	var a Alert
	if len(p) < alertHeader+1+ed25519.SignatureSize {
		return a, fmt.Errorf("alert: %d bytes", len(p))
	}
	r := wire.NewReader(p)
	a.Hops = r.U8()
	v := r.U8()
	a.Key = bytes.Clone(r.Raw(ed25519.PublicKeySize))
	copy(a.ID[:], r.Raw(len(a.ID)))
	at := r.U64()
	text := r.Bytes16()
	sig := r.Raw(ed25519.SignatureSize)
	switch {
	case r.Err != nil:
		return a, fmt.Errorf("alert: %w", r.Err)
	case r.Len() != 0:
		return a, errors.New("alert: bytes after the signature")
	case v != version:
		return a, fmt.Errorf("alert version %d", v)
	case a.Hops == 0 || a.Hops > alertHops:
		return a, fmt.Errorf("alert: %d hops left", a.Hops)
	case len(text) == 0 || len(text) > MaxAlertText:
		return a, fmt.Errorf("alert: text of %d bytes", len(text))
	case !utf8.Valid(text):
		return a, errors.New("alert: text not UTF-8")
	case at > 1<<53:
		return a, errors.New("alert: time out of range")
	}
	signed := p[1 : len(p)-ed25519.SignatureSize]
	if !identity.VerifyContext(a.Key, identity.ContextAlert, signed, sig) {
		return a, errors.New("alert: bad signature")
	}
	a.Origin = identity.IDFromPublicKey(a.Key)
	a.At = time.UnixMilli(int64(at))
	a.Text = string(text)
	return a, nil
}
