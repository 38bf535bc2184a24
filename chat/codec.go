package chat

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"parley/internal/wire"
)

// Frame types used by chat on the overlay.
const (
	TypeMessage = wire.FrameChatMessage
	TypeAck     = wire.FrameChatAck
	TypeSealed  = wire.FrameChatSealed
	TypeRead    = wire.FrameChatRead
)

// MaxText is the largest message text in bytes.
const MaxText = 32 << 10

// maxIDsPerReceipt bounds one ack/read frame.
const maxIDsPerReceipt = 4096

// ErrTooLong is returned for text over MaxText.
var ErrTooLong = fmt.Errorf("message longer than %d bytes", MaxText)

// Message kinds.
const (
	KindDirect uint8 = 1
	KindRoom   uint8 = 2
)

// Body is a decoded message frame.
type Body struct {
	Kind uint8
	Room string
	ID   string
	HLC  uint64
	Sent time.Time
	Text string
}

// EncodeBody encodes a message frame body.
func EncodeBody(b Body) []byte {
	var w wire.Writer
	w.U8(b.Kind)
	w.Str8(b.Room)
	w.Str8(b.ID)
	w.U64(b.HLC)
	w.U64(uint64(b.Sent.UnixMilli()))
	w.Str16(b.Text)
	return w.B
}

// DecodeBody parses a message frame body.
func DecodeBody(p []byte) (Body, error) {
	r := wire.NewReader(p)
	b := Body{Kind: r.U8(), Room: r.Str8(), ID: r.Str8(), HLC: r.U64()}
	b.Sent = time.UnixMilli(int64(r.U64()))
	b.Text = r.Str16()
	switch {
	case r.Err != nil:
		return Body{}, fmt.Errorf("chat message: %w", r.Err)
	case b.Kind != KindDirect && b.Kind != KindRoom:
		return Body{}, fmt.Errorf("chat message: unknown kind %d", b.Kind)
	case (b.Kind == KindRoom) != (b.Room != ""):
		return Body{}, errors.New("chat message: room ID present iff kind is room")
	case len(b.ID) == 0 || len(b.ID) > 64:
		return Body{}, fmt.Errorf("chat message: bad id length %d", len(b.ID))
	case len(b.Text) > MaxText || !utf8.ValidString(b.Text):
		return Body{}, errors.New("chat message: text too long or not UTF-8")
	}
	return b, nil
}

// EncodeIDs encodes an ack or read frame.
func EncodeIDs(ids []string) []byte {
	var w wire.Writer
	w.U16(uint16(len(ids)))
	for _, id := range ids {
		w.Str8(id)
	}
	return w.B
}

// DecodeIDs parses an ack or read frame.
func DecodeIDs(p []byte) ([]string, error) {
	r := wire.NewReader(p)
	n := int(r.U16())
	if n > maxIDsPerReceipt {
		return nil, fmt.Errorf("receipt with %d ids", n)
	}
	ids := make([]string, 0, n)
	for i := 0; i < n && r.Err == nil; i++ {
		id := r.Str8()
		if id == "" {
			r.Fail("empty id")
		}
		ids = append(ids, id)
	}
	if r.Err != nil {
		return nil, fmt.Errorf("chat receipt: %w", r.Err)
	}
	return ids, nil
}

// sealedTypes are the frames a chat envelope may carry: never an envelope, nor
// custody requests (direct links only).
var sealedTypes = []uint8{TypeMessage, TypeAck, TypeRead, TypeHandover, TypeHandoverDone}
