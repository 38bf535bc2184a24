package chat

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"parley/internal/wire"
	"parley/store"
)

func rawMessage(id string, ms uint64, text string) []byte {
	var w wire.Writer
	w.Str8(id)
	w.U64(ms)
	w.Str16(text)
	return w.B
}

func TestDecodeMessage(t *testing.T) {
	sentAt := time.UnixMilli(1_717_243_200_123)
	valid := encodeMessage(store.Message{ID: "01J0ABCDEF", Time: sentAt, Text: "héllo"})
	id, at, text, err := DecodeMessage(valid)
	if err != nil || id != "01J0ABCDEF" || !at.Equal(sentAt) || text != "héllo" {
		t.Fatalf("valid: %q %v %q %v", id, at, text, err)
	}
	if _, _, text, err := DecodeMessage(rawMessage("x", 0, strings.Repeat("é", MaxText/2))); err != nil || len(text) != MaxText {
		t.Fatalf("text of exactly MaxText bytes: %d bytes, %v", len(text), err)
	}
	if id, _, _, err := DecodeMessage(rawMessage(strings.Repeat("i", 64), 0, "t")); err != nil || len(id) != 64 {
		t.Fatalf("64-byte id: %v", err)
	}

	for _, tc := range malformedMessages() {
		t.Run(tc.name, func(t *testing.T) {
			id, at, text, err := DecodeMessage(tc.b)
			if err == nil {
				t.Fatalf("accepted: %q %v %q", id, at, text)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if id != "" || text != "" || !at.IsZero() {
				t.Fatal("rejected message returned fields")
			}
		})
	}
}

func malformedMessages() []struct {
	name, want string
	b          []byte
} {
	valid := rawMessage("01J0ABCDEF", 1000, "hello")
	return []struct {
		name, want string
		b          []byte
	}{
		{"empty", "too short", nil},
		{"id only", "too short", valid[:11]},
		{"truncated time", "too short", valid[:15]},
		{"truncated text", "too short", valid[:len(valid)-1]},
		{"empty id", "bad id length", rawMessage("", 1, "t")},
		{"65-byte id", "bad id length", rawMessage(strings.Repeat("i", 65), 1, "t")},
		{"text over MaxText", "too long", rawMessage("x", 1, strings.Repeat("a", MaxText+1))},
		{"invalid UTF-8", "not UTF-8", rawMessage("x", 1, "a\xffb")},
		{"truncated UTF-8", "not UTF-8", rawMessage("x", 1, "é"[:1])},
	}
}

// FuzzDecodeMessage checks that decoding never panics and that an accepted message
// is within limits and re-encodes to the bytes it was read from (trailing bytes
// after the text are ignored by the decoder).
func FuzzDecodeMessage(f *testing.F) {
	f.Add(encodeMessage(store.Message{ID: NewID(time.UnixMilli(1)), Time: time.UnixMilli(1), Text: "hello"}))
	f.Add(rawMessage("x", 1<<63, "négatif"))
	f.Add(append(rawMessage("x", 0, "trailing"), 1, 2, 3))
	for _, tc := range malformedMessages() {
		f.Add(tc.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, at, text, err := DecodeMessage(b)
		if err != nil {
			if id != "" || text != "" || !at.IsZero() {
				t.Fatal("error with non-zero fields")
			}
			return
		}
		if len(id) == 0 || len(id) > 64 {
			t.Fatalf("accepted id of %d bytes", len(id))
		}
		if len(text) > MaxText || !utf8.ValidString(text) {
			t.Fatalf("accepted text of %d bytes, valid UTF-8 %v", len(text), utf8.ValidString(text))
		}
		enc := encodeMessage(store.Message{ID: id, Time: at, Text: text})
		if !bytes.HasPrefix(b, enc) {
			t.Fatalf("re-encoding is not a prefix of the input\n got %x\n  in %x", enc, b)
		}
	})
}
