package overlay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		typ     uint8
		payload []byte
	}{
		{"empty ping", TypePing, nil},
		{"record", TypeRecord, []byte("some record bytes")},
		{"app type", 200, bytes.Repeat([]byte{0xaa}, 1000)},
		{"exactly MaxFrame", FirstAppType, make([]byte, MaxFrame)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := AppendFrame([]byte("prefix"), tc.typ, tc.payload)
			if string(enc[:6]) != "prefix" {
				t.Fatal("AppendFrame clobbered dst")
			}
			enc = enc[6:]
			if len(enc) != frameHeaderLen+len(tc.payload) || enc[0] != frameVersion || enc[1] != tc.typ ||
				binary.BigEndian.Uint32(enc[2:]) != uint32(len(tc.payload)) {
				t.Fatalf("header %x", enc[:frameHeaderLen])
			}
			f, err := DecodeFrame(enc)
			if err != nil {
				t.Fatal(err)
			}
			if f.Type != tc.typ || !bytes.Equal(f.Payload, tc.payload) {
				t.Fatalf("decoded type %d, %d payload bytes", f.Type, len(f.Payload))
			}
		})
	}
}

func frameHeader(ver, typ uint8, n uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{ver, typ}, n)
}

// malformedFrames are DecodeFrame's failure cases; skip says whether the frame is
// well delimited (skipped, link kept) rather than unusable.
func malformedFrames() []struct {
	name string
	b    []byte
	skip bool
} {
	return []struct {
		name string
		b    []byte
		skip bool
	}{
		{"empty", nil, false},
		{"half a header", []byte{1, 1, 0}, false},
		{"length beyond data", append(frameHeader(1, 1, 10), 1, 2, 3), false},
		{"length short of data", append(frameHeader(1, 1, 1), 1, 2, 3), false},
		{"length 0xffffffff", frameHeader(1, 1, 0xffffffff), false},
		{"version 0", append(frameHeader(0, 1, 2), 'h', 'i'), true},
		{"version 9", append(frameHeader(9, 1, 2), 'h', 'i'), true},
		{"oversized", append(frameHeader(1, 3, MaxFrame+1), make([]byte, MaxFrame+1)...), true},
	}
}

func TestDecodeFrameMalformed(t *testing.T) {
	for _, tc := range malformedFrames() {
		t.Run(tc.name, func(t *testing.T) {
			f, err := DecodeFrame(tc.b)
			if err == nil {
				t.Fatalf("accepted: %+v", f)
			}
			if errors.Is(err, errSkipped) != tc.skip {
				t.Fatalf("err = %v; skipped %v, want %v", err, errors.Is(err, errSkipped), tc.skip)
			}
			if f.Payload != nil {
				t.Fatal("rejected frame returned a payload")
			}
		})
	}
}

func TestFrameReaderSkipsAndContinues(t *testing.T) {
	var stream []byte
	stream = append(stream, frameHeader(1, TypeRecord, MaxFrame+1)...)
	stream = append(stream, bytes.Repeat([]byte{7}, MaxFrame+1)...)
	stream = append(stream, frameHeader(9, TypePing, 3)...)
	stream = append(stream, "old"...)
	stream = AppendFrame(stream, 42, []byte("good one"))
	stream = AppendFrame(stream, TypePong, nil)

	fr := newFrameReader(bytes.NewReader(stream))
	for i, want := range []string{"oversized", "version 9"} {
		if _, err := fr.Next(); !errors.Is(err, errSkipped) {
			t.Fatalf("frame %d: err = %v, want skipped (%s)", i, err, want)
		}
	}
	f, err := fr.Next()
	if err != nil || f.Type != 42 || string(f.Payload) != "good one" {
		t.Fatalf("frame after skips: %+v, %v", f, err)
	}
	f, err = fr.Next()
	if err != nil || f.Type != TypePong || len(f.Payload) != 0 {
		t.Fatalf("empty frame: %+v, %v", f, err)
	}
	if _, err := fr.Next(); err != io.EOF {
		t.Fatalf("clean end of stream: err = %v, want io.EOF", err)
	}
}

func TestFrameReaderTruncated(t *testing.T) {
	if _, err := newFrameReader(bytes.NewReader(nil)).Next(); err != io.EOF {
		t.Fatalf("empty stream: err = %v, want io.EOF", err)
	}
	good := AppendFrame(nil, TypeRecord, []byte("payload"))
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"part of a header", good[:3]},
		{"header only", good[:frameHeaderLen]},
		{"part of the payload", good[:len(good)-1]},
		{"part of an oversized frame", append(frameHeader(1, 1, MaxFrame+5), 1, 2, 3)},
		{"part of a wrong-version frame", append(frameHeader(2, 1, 5), 1, 2)},
		{"good frame then a partial one", append(bytes.Clone(good), good[:8]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := newFrameReader(bytes.NewReader(tc.b))
			var err error
			for n := 0; err == nil; n++ {
				if n > 1 {
					t.Fatal("read more frames than the stream holds")
				}
				_, err = fr.Next()
			}
			if errors.Is(err, errSkipped) {
				t.Fatalf("a truncated stream must end the link, not skip: %v", err)
			}
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				t.Fatalf("err = %v, want io.EOF or io.ErrUnexpectedEOF", err)
			}
		})
	}
}

// FuzzDecodeFrame checks DecodeFrame and the streaming reader on the same bytes.
// Invariants: no panic; an accepted frame re-encodes to exactly the input and has a
// payload within MaxFrame; the streaming reader agrees with DecodeFrame on the first
// frame, never returns a payload over MaxFrame, and ends with EOF or unexpected EOF.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(AppendFrame(nil, TypePing, binary.BigEndian.AppendUint64(make([]byte, 8), 1)))
	f.Add(AppendFrame(nil, TypeRecord, []byte("record")))
	f.Add(AppendFrame(nil, 200, nil))
	f.Add(AppendFrame(AppendFrame(nil, 1, []byte("a")), 2, []byte("b")))
	for _, tc := range malformedFrames() {
		if len(tc.b) < 4096 {
			f.Add(tc.b)
		}
	}
	f.Add(append(frameHeader(1, 3, MaxFrame+1), 1, 2, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		one, err := DecodeFrame(b)
		decoded := err == nil
		if decoded {
			if len(one.Payload) > MaxFrame {
				t.Fatalf("accepted a %d-byte payload", len(one.Payload))
			}
			if again := AppendFrame(nil, one.Type, one.Payload); !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs\n got %x\nwant %x", again, b)
			}
		}

		fr := newFrameReader(bytes.NewReader(b))
		for i := 0; ; i++ {
			if i > len(b)/frameHeaderLen+1 {
				t.Fatal("reader produced more frames than the input can hold")
			}
			fs, err := fr.Next()
			if i == 0 && decoded && (err != nil || fs.Type != one.Type || !bytes.Equal(fs.Payload, one.Payload)) {
				t.Fatalf("stream disagrees with DecodeFrame: %+v, %v", fs, err)
			}
			if errors.Is(err, errSkipped) {
				continue
			}
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF {
					t.Fatalf("stream ended with %v", err)
				}
				return
			}
			if len(fs.Payload) > MaxFrame {
				t.Fatalf("stream returned a %d-byte payload", len(fs.Payload))
			}
		}
	})
}
