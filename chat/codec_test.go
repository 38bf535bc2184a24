package chat

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"parley/internal/wire"
)

const testRoom = "0123456789abcdef0123456789abcdef"

// rawBody builds a message frame field by field, so malformed ones can be made.
func rawBody(kind uint8, room, id string, h, ms uint64, text string) []byte {
	var w wire.Writer
	w.U8(kind)
	w.Str8(room)
	w.Str8(id)
	w.U64(h)
	w.U64(ms)
	w.Str16(text)
	return w.B
}

func validBodies() []Body {
	at := time.UnixMilli(1_717_243_200_123)
	return []Body{
		{Kind: KindDirect, ID: NewID(at), HLC: 1<<32 | 7, Sent: at, Text: "héllo"},
		{Kind: KindRoom, Room: testRoom, ID: "x", HLC: 0, Sent: time.UnixMilli(0), Text: "z"},
		{Kind: KindDirect, ID: strings.Repeat("i", 64), HLC: ^uint64(0), Sent: time.UnixMilli(-1), Text: strings.Repeat("é", MaxText/2)},
	}
}

func TestBodyRoundTrip(t *testing.T) {
	for _, b := range validBodies() {
		got, err := DecodeBody(EncodeBody(b))
		if err != nil {
			t.Fatalf("%+v: %v", b.ID, err)
		}
		if got.Kind != b.Kind || got.Room != b.Room || got.ID != b.ID || got.HLC != b.HLC || !got.Sent.Equal(b.Sent) || got.Text != b.Text {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, b)
		}
	}
	// Sub-millisecond precision is not carried.
	at := time.UnixMilli(5).Add(999 * time.Microsecond)
	got, err := DecodeBody(EncodeBody(Body{Kind: KindDirect, ID: "x", Sent: at, Text: "t"}))
	if err != nil || !got.Sent.Equal(time.UnixMilli(5)) {
		t.Fatalf("sent time %v, %v", got.Sent, err)
	}
	// Bytes after the text are ignored (room for later fields).
	if _, err := DecodeBody(append(rawBody(KindDirect, "", "x", 1, 1, "t"), 1, 2, 3)); err != nil {
		t.Fatalf("trailing bytes: %v", err)
	}
}

type malformed struct {
	name, want string
	b          []byte
}

func malformedBodies() []malformed {
	valid := rawBody(KindDirect, "", "01J0ABCDEF", 5, 1000, "hello")
	room := rawBody(KindRoom, testRoom, "01J0ABCDEF", 5, 1000, "hello")
	return []malformed{
		{"empty", "too short", nil},
		{"kind only", "too short", valid[:1]},
		{"truncated id", "too short", valid[:5]},
		{"truncated hlc", "too short", valid[:15]},
		{"truncated time", "too short", valid[:25]},
		{"truncated text length", "too short", valid[:len(valid)-6]},
		{"truncated text", "too short", valid[:len(valid)-1]},
		{"truncated room", "too short", room[:10]},
		{"kind 0", "unknown kind 0", rawBody(0, "", "x", 1, 1, "t")},
		{"kind 3", "unknown kind 3", rawBody(3, "", "x", 1, 1, "t")},
		{"kind 255", "unknown kind 255", rawBody(255, testRoom, "x", 1, 1, "t")},
		{"room ID with direct kind", "room ID present iff", rawBody(KindDirect, testRoom, "x", 1, 1, "t")},
		{"room kind without room", "room ID present iff", rawBody(KindRoom, "", "x", 1, 1, "t")},
		{"empty id", "bad id length 0", rawBody(KindDirect, "", "", 1, 1, "t")},
		{"65-byte id", "bad id length 65", rawBody(KindDirect, "", strings.Repeat("i", 65), 1, 1, "t")},
		{"text over MaxText", "too long", rawBody(KindDirect, "", "x", 1, 1, strings.Repeat("a", MaxText+1))},
		{"invalid UTF-8", "not UTF-8", rawBody(KindDirect, "", "x", 1, 1, "a\xffb")},
		{"cut UTF-8", "not UTF-8", rawBody(KindRoom, testRoom, "x", 1, 1, "é"[:1])},
	}
}

func TestDecodeBodyMalformed(t *testing.T) {
	for _, tc := range malformedBodies() {
		t.Run(tc.name, func(t *testing.T) {
			b, err := DecodeBody(tc.b)
			if err == nil {
				t.Fatalf("accepted: %+v", b)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if !reflect.DeepEqual(b, Body{}) {
				t.Fatalf("rejected body returned fields: %+v", b)
			}
		})
	}
}

func sameBody(a, b Body) bool {
	return a.Kind == b.Kind && a.Room == b.Room && a.ID == b.ID && a.HLC == b.HLC && a.Sent.Equal(b.Sent) && a.Text == b.Text
}

// FuzzDecodeBody: decoding never panics; an accepted body is within limits and
// survives encode→decode unchanged, its encoding being a prefix of the input.
func FuzzDecodeBody(f *testing.F) {
	for _, b := range validBodies() {
		f.Add(EncodeBody(b))
	}
	for _, tc := range malformedBodies() {
		f.Add(tc.b)
	}
	f.Add(append(rawBody(KindDirect, "", "x", 1, 1<<63, "trailing"), 1, 2, 3))
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := DecodeBody(p)
		if err != nil {
			if !reflect.DeepEqual(b, Body{}) {
				t.Fatal("error with non-zero fields")
			}
			return
		}
		if (b.Kind != KindDirect && b.Kind != KindRoom) || (b.Kind == KindRoom) != (b.Room != "") {
			t.Fatalf("accepted kind %d with room %q", b.Kind, b.Room)
		}
		if len(b.ID) == 0 || len(b.ID) > 64 || len(b.Text) > MaxText || !utf8.ValidString(b.Text) {
			t.Fatalf("accepted out-of-limit body: id %d bytes, text %d bytes", len(b.ID), len(b.Text))
		}
		enc := EncodeBody(b)
		if !bytes.HasPrefix(p, enc) {
			t.Fatalf("re-encoding is not a prefix of the input\n got %x\n  in %x", enc, p)
		}
		again, err := DecodeBody(enc)
		if err != nil || !sameBody(again, b) {
			t.Fatalf("re-decode: %+v, %v; want %+v", again, err, b)
		}
	})
}

func TestIDsRoundTrip(t *testing.T) {
	full := make([]string, maxIDsPerReceipt)
	for i := range full {
		full[i] = fmt.Sprintf("%026d", i)
	}
	for _, in := range [][]string{{}, {"a"}, {NewID(time.Now()), NewID(time.Now()), strings.Repeat("z", 255)}, full} {
		got, err := DecodeIDs(EncodeIDs(in))
		if err != nil || len(got) != len(in) || (len(in) > 0 && !reflect.DeepEqual(got, in)) {
			t.Fatalf("round trip of %d ids: %d ids, %v", len(in), len(got), err)
		}
	}
}

func rawIDs(n uint16, ids ...string) []byte {
	var w wire.Writer
	w.U16(n)
	for _, id := range ids {
		w.Str8(id)
	}
	return w.B
}

func malformedIDs() []malformed {
	over := make([]string, maxIDsPerReceipt+1)
	for i := range over {
		over[i] = "x"
	}
	return []malformed{
		{"empty", "too short", nil},
		{"half a count", "too short", []byte{0}},
		{"missing ids", "too short", rawIDs(2, "a")},
		{"truncated id", "too short", rawIDs(1, "abc")[:4]},
		{"empty id", "empty id", rawIDs(2, "a", "")},
		{"over the limit", "receipt with 4097 ids", rawIDs(maxIDsPerReceipt+1, over...)},
		{"huge count", "receipt with 65535 ids", rawIDs(0xffff)},
	}
}

func TestDecodeIDsMalformed(t *testing.T) {
	for _, tc := range malformedIDs() {
		t.Run(tc.name, func(t *testing.T) {
			ids, err := DecodeIDs(tc.b)
			if err == nil || ids != nil {
				t.Fatalf("accepted: %q, %v", ids, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// FuzzDecodeIDs: never panics; an accepted list is within limits and survives
// encode→decode unchanged.
func FuzzDecodeIDs(f *testing.F) {
	f.Add(EncodeIDs([]string{"a", NewID(time.UnixMilli(1))}))
	f.Add(EncodeIDs(nil))
	f.Add(append(EncodeIDs([]string{"trailing"}), 9))
	for _, tc := range malformedIDs() {
		f.Add(tc.b)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		ids, err := DecodeIDs(p)
		if err != nil {
			if ids != nil {
				t.Fatal("error with ids")
			}
			return
		}
		if len(ids) > maxIDsPerReceipt {
			t.Fatalf("accepted %d ids", len(ids))
		}
		for _, id := range ids {
			if id == "" || len(id) > 255 {
				t.Fatalf("accepted id of %d bytes", len(id))
			}
		}
		enc := EncodeIDs(ids)
		if !bytes.HasPrefix(p, enc) {
			t.Fatalf("re-encoding is not a prefix of the input\n got %x\n  in %x", enc, p)
		}
		again, err := DecodeIDs(enc)
		if err != nil || len(again) != len(ids) || (len(ids) > 0 && !reflect.DeepEqual(again, ids)) {
			t.Fatalf("re-decode: %q, %v; want %q", again, err, ids)
		}
	})
}

func validAds() []roomAd {
	return []roomAd{
		{ID: testRoom, Name: "lobby", Topic: "welcome", TopicHLC: 1 << 40},
		{ID: strings.Repeat("f", 32), Name: strings.Repeat("n", maxRoomName), Topic: strings.Repeat("t", maxTopic)},
	}
}

func TestRoomAdsRoundTrip(t *testing.T) {
	for _, in := range [][]roomAd{nil, validAds()[:1], validAds()} {
		got, err := DecodeRoomAds(EncodeRoomAds(in))
		if err != nil || len(got) != len(in) || (len(in) > 0 && !reflect.DeepEqual(got, in)) {
			t.Fatalf("round trip:\n got %+v, %v\nwant %+v", got, err, in)
		}
	}
	// Encoding caps the list at what decoding accepts.
	many := make([]roomAd, maxRoomsAdvertised+5)
	for i := range many {
		many[i] = roomAd{ID: fmt.Sprintf("%032x", i), Name: "r"}
	}
	got, err := DecodeRoomAds(EncodeRoomAds(many))
	if err != nil || len(got) != maxRoomsAdvertised || !reflect.DeepEqual(got, many[:maxRoomsAdvertised]) {
		t.Fatalf("capped list: %d ads, %v", len(got), err)
	}
}

func rawAds(n uint8, ads ...roomAd) []byte {
	var w wire.Writer
	w.U8(n)
	for _, a := range ads {
		w.Str8(a.ID)
		w.Str8(a.Name)
		w.Str16(a.Topic)
		w.U64(a.TopicHLC)
	}
	return w.B
}

func malformedAds() []malformed {
	ok := validAds()[0]
	bad := func(f func(*roomAd)) roomAd { a := ok; f(&a); return a }
	valid := rawAds(1, ok)
	return []malformed{
		{"empty", "too short", nil},
		{"missing entry", "too short", rawAds(2, ok)},
		{"truncated HLC", "too short", valid[:len(valid)-1]},
		{"truncated topic", "too short", valid[:len(valid)-9]},
		{"short room id", "bad room entry", rawAds(1, bad(func(a *roomAd) { a.ID = "abcd" }))},
		{"room id not hex", "bad room entry", rawAds(1, bad(func(a *roomAd) { a.ID = strings.Repeat("g", 32) }))},
		{"empty room id", "bad room entry", rawAds(1, bad(func(a *roomAd) { a.ID = "" }))},
		{"name too long", "bad room entry", rawAds(1, bad(func(a *roomAd) { a.Name = strings.Repeat("n", maxRoomName+1) }))},
		{"topic too long", "bad room entry", rawAds(1, bad(func(a *roomAd) { a.Topic = strings.Repeat("t", maxTopic+1) }))},
		{"second entry bad", "bad room entry", rawAds(2, ok, bad(func(a *roomAd) { a.ID = "x" }))},
		{"too many", "lists 65 rooms", rawAds(maxRoomsAdvertised + 1)},
	}
}

func TestDecodeRoomAdsMalformed(t *testing.T) {
	for _, tc := range malformedAds() {
		t.Run(tc.name, func(t *testing.T) {
			ads, err := DecodeRoomAds(tc.b)
			if err == nil || ads != nil {
				t.Fatalf("accepted: %+v, %v", ads, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// FuzzDecodeRoomAds: never panics; accepted ads are within limits and survive
// encode→decode unchanged.
func FuzzDecodeRoomAds(f *testing.F) {
	f.Add(EncodeRoomAds(validAds()))
	f.Add(EncodeRoomAds(nil))
	for _, tc := range malformedAds() {
		f.Add(tc.b)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		ads, err := DecodeRoomAds(p)
		if err != nil {
			if ads != nil {
				t.Fatal("error with ads")
			}
			return
		}
		if len(ads) > maxRoomsAdvertised {
			t.Fatalf("accepted %d ads", len(ads))
		}
		for _, a := range ads {
			if !validRoomID(a.ID) || len(a.Name) > maxRoomName || len(a.Topic) > maxTopic {
				t.Fatalf("accepted bad ad %+v", a)
			}
		}
		enc := EncodeRoomAds(ads)
		if !bytes.HasPrefix(p, enc) {
			t.Fatalf("re-encoding is not a prefix of the input\n got %x\n  in %x", enc, p)
		}
		again, err := DecodeRoomAds(enc)
		if err != nil || len(again) != len(ads) || (len(ads) > 0 && !reflect.DeepEqual(again, ads)) {
			t.Fatalf("re-decode: %+v, %v; want %+v", again, err, ads)
		}
	})
}

func TestSealedInner(t *testing.T) {
	for _, typ := range []uint8{TypeMessage, TypeAck, TypeRead, TypeHandover, TypeHandoverDone} {
		got, body, err := sealedInner([]byte{typ, 1, 2})
		if err != nil || got != typ || !bytes.Equal(body, []byte{1, 2}) {
			t.Fatalf("inner type %d: %d %x %v", typ, got, body, err)
		}
	}
	// Nothing nests a sealed frame in a sealed frame, and unknown types are refused.
	for _, p := range [][]byte{nil, {}, {TypeSealed, 1}, {TypeCustody, 1}, {0}, {99}, {255}} {
		if typ, body, err := sealedInner(p); err == nil {
			t.Fatalf("sealedInner(%x) = %d %x", p, typ, body)
		}
	}
}
