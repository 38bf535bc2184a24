// Package wire holds the byte-level building blocks shared by Parley's binary formats
// (beacons, link frames, peer records, chat envelopes).
//
// All integers are big-endian. The two variable-length shapes are:
//
//	bytes8:  [len u8][len bytes]     short strings and keys (≤ 255 bytes)
//	bytes16: [len u16][len bytes]    longer text (≤ 65535 bytes)
//
// A Reader never panics on short or hostile input: the first problem sticks in Err and
// every later read returns a zero value, so decoders read a whole structure and check
// Err once, the way encoding/binary users do with bufio.
//
// wire also holds the registry of the formats' number spaces (registry.go): every
// link frame type, peer-record extension type and beacon extension type, with its
// owning package and the file documenting its bytes. It lives here because every
// codec already imports wire and wire imports nothing of the project, so the owners
// define their constants from it (const TypeRecord = wire.FrameRecord) without a new
// dependency or an import cycle, and a number is chosen in one place only.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrShort means the input ended before the structure did.
var ErrShort = errors.New("wire: input too short")

// Writer appends encoded values to a byte slice.
type Writer struct{ B []byte }

func (w *Writer) U8(v uint8)   { w.B = append(w.B, v) }
func (w *Writer) U16(v uint16) { w.B = binary.BigEndian.AppendUint16(w.B, v) }
func (w *Writer) U32(v uint32) { w.B = binary.BigEndian.AppendUint32(w.B, v) }
func (w *Writer) U64(v uint64) { w.B = binary.BigEndian.AppendUint64(w.B, v) }
func (w *Writer) Raw(b []byte) { w.B = append(w.B, b...) }

// Bytes8 writes a u8-length-prefixed field; longer input is truncated to 255 bytes, so
// callers validate lengths before encoding when truncation would be wrong.
func (w *Writer) Bytes8(b []byte) {
	if len(b) > 0xff {
		b = b[:0xff]
	}
	w.U8(uint8(len(b)))
	w.Raw(b)
}

// Bytes16 writes a u16-length-prefixed field (truncating beyond 65535 bytes).
func (w *Writer) Bytes16(b []byte) {
	if len(b) > 0xffff {
		b = b[:0xffff]
	}
	w.U16(uint16(len(b)))
	w.Raw(b)
}

func (w *Writer) Str8(s string)  { w.Bytes8([]byte(s)) }
func (w *Writer) Str16(s string) { w.Bytes16([]byte(s)) }

// Reader consumes encoded values from a byte slice.
type Reader struct {
	B   []byte
	Err error
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{B: b} }

func (r *Reader) take(n int) []byte {
	if r.Err != nil {
		return nil
	}
	if n < 0 || len(r.B) < n {
		r.Err = ErrShort
		r.B = nil
		return nil
	}
	v := r.B[:n:n]
	r.B = r.B[n:]
	return v
}

func (r *Reader) U8() uint8 {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *Reader) U16() uint16 {
	if b := r.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *Reader) U32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *Reader) U64() uint64 {
	if b := r.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// Raw returns the next n bytes (aliasing the input).
func (r *Reader) Raw(n int) []byte { return r.take(n) }

func (r *Reader) Bytes8() []byte  { return r.take(int(r.U8())) }
func (r *Reader) Bytes16() []byte { return r.take(int(r.U16())) }
func (r *Reader) Str8() string    { return string(r.Bytes8()) }
func (r *Reader) Str16() string   { return string(r.Bytes16()) }

// Len is the number of unread bytes.
func (r *Reader) Len() int { return len(r.B) }

// Fail records err unless an earlier error is already recorded.
func (r *Reader) Fail(format string, args ...any) {
	if r.Err == nil {
		r.Err = fmt.Errorf(format, args...)
	}
}
