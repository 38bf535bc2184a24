package chat

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/wire"
	"parley/store"
)

// Frame types used by chat on the overlay.
const (
	TypeMessage uint8 = 16
	TypeAck     uint8 = 17
)

// MaxText is the largest message text in bytes.
const MaxText = 32 << 10

// ErrTooLong is returned for text over MaxText.
var ErrTooLong = fmt.Errorf("message longer than %d bytes", MaxText)

// Transport sends an application frame to a direct neighbour.
type Transport interface {
	Send(to identity.PeerID, typ uint8, payload []byte) error
}

// Received is a new incoming message.
type Received struct{ Message store.Message }

// Delivered reports that the recipient committed a message we sent.
type Delivered struct{ ID, To string }

// Service sends, receives and acknowledges messages.
type Service struct {
	Self  identity.PeerID
	Net   Transport
	DB    *store.DB
	Now   func() time.Time
	Emit  func(any) // Received or Delivered
	Log   *slog.Logger
	Stats *counters.Set
}

// Send stores and transmits a message, returning its ID. The message is saved first
// so it is never lost between the call and the acknowledgement.
func (s *Service) Send(to identity.PeerID, text string) (string, error) {
	if len(text) > MaxText {
		return "", ErrTooLong
	}
	if text == "" {
		return "", errors.New("empty message")
	}
	if !utf8.ValidString(text) {
		return "", errors.New("message is not valid UTF-8")
	}
	now := s.Now()
	m := store.Message{ID: NewID(now), From: s.Self.String(), To: to.String(), Text: text, Time: now, State: store.StateSent}
	if _, err := s.DB.SaveMessage(m); err != nil {
		return "", err
	}
	if err := s.Net.Send(to, TypeMessage, encodeMessage(m)); err != nil {
		return m.ID, fmt.Errorf("send to %s: %w", to.Short(), err)
	}
	return m.ID, nil
}

func encodeMessage(m store.Message) []byte {
	var w wire.Writer
	w.Str8(m.ID)
	w.U64(uint64(m.Time.UnixMilli()))
	w.Str16(m.Text)
	return w.B
}

// DecodeMessage parses a message frame payload.
func DecodeMessage(b []byte) (id string, sent time.Time, text string, err error) {
	r := wire.NewReader(b)
	id = r.Str8()
	sent = time.UnixMilli(int64(r.U64()))
	text = r.Str16()
	switch {
	case r.Err != nil:
		return "", time.Time{}, "", fmt.Errorf("chat message: %w", r.Err)
	case len(id) == 0 || len(id) > 64:
		return "", time.Time{}, "", fmt.Errorf("chat message: bad id length %d", len(id))
	case len(text) > MaxText || !utf8.ValidString(text):
		return "", time.Time{}, "", errors.New("chat message: text too long or not UTF-8")
	}
	return id, sent, text, nil
}

// HandleMessage stores an incoming message and acknowledges it after the commit.
func (s *Service) HandleMessage(from identity.PeerID, payload []byte) {
	id, sent, text, err := DecodeMessage(payload)
	if err != nil {
		s.Stats.Add("chat_drop_malformed", 1)
		s.Log.Debug("chat frame dropped", "from", from.Short(), "err", err)
		return
	}
	m := store.Message{ID: id, From: from.String(), To: s.Self.String(), Text: text, Time: sent, State: store.StateReceived}
	isNew, err := s.DB.SaveMessage(m)
	if err != nil {
		// Not committed, so not acknowledged: the sender will retry.
		s.Log.Error("store incoming message", "err", err)
		return
	}
	var w wire.Writer
	w.Str8(id)
	if err := s.Net.Send(from, TypeAck, w.B); err != nil {
		s.Stats.Add("chat_ack_unsent", 1)
	}
	if isNew {
		s.Emit(Received{Message: m})
	} else {
		s.Stats.Add("chat_duplicate", 1)
	}
}

// HandleAck marks a sent message delivered.
func (s *Service) HandleAck(from identity.PeerID, payload []byte) {
	r := wire.NewReader(payload)
	id := r.Str8()
	if r.Err != nil || id == "" {
		s.Stats.Add("chat_drop_malformed", 1)
		return
	}
	m, ok, err := s.DB.GetMessage(id)
	if err != nil || !ok || m.To != from.String() {
		// An ack for a message we did not send to that peer is ignored.
		s.Stats.Add("chat_ack_unknown", 1)
		return
	}
	changed, err := s.DB.SetMessageState(id, store.StateDelivered)
	if err != nil {
		s.Log.Error("mark delivered", "err", err)
		return
	}
	if changed {
		s.Emit(Delivered{ID: id, To: m.To})
	}
}
