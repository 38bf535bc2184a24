package overlay

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"parley/internal/bufpool"
	"parley/internal/wire"
)

const (
	frameVersion   = 1
	frameHeaderLen = 6
	// MaxFrame is the largest payload a link accepts.
	MaxFrame = 1 << 20
)

// Frame types of the overlay itself; applications use 16 and up.
const (
	TypePing   = wire.FramePing
	TypePong   = wire.FramePong
	TypeRecord = wire.FrameRecord
	// TypeRouted carries an application frame between peers without a direct link,
	// forwarded hop by hop (see SendTo).
	TypeRouted = wire.FrameRouted
	// TypeSuperseded tells the peer that this connection is being closed only because
	// another connection between the same two peers won the tie-break.
	TypeSuperseded = wire.FrameSuperseded
	// TypeProbe and TypeProbeReport measure a link's capacity (probe.go).
	TypeProbe       = wire.FrameProbe
	TypeProbeReport = wire.FrameProbeReport
	// FirstAppType is the lowest type number handed to registered handlers.
	FirstAppType = wire.FrameFirstApp
)

// errSkipped marks a frame that was read whole but must be ignored; the link stays.
var errSkipped = errors.New("frame skipped")

// Frame is one decoded frame.
type Frame struct {
	Type    uint8
	Payload []byte
}

// AppendFrame encodes a frame onto dst.
func AppendFrame(dst []byte, typ uint8, payload []byte) []byte {
	dst = append(dst, frameVersion, typ)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

// frameReader reads frames from a stream, skipping (not failing on) frames it cannot
// use, so one bad frame never costs the link.
type frameReader struct {
	r      *bufio.Reader
	header [frameHeaderLen]byte
}

func newFrameReader(r io.Reader) *frameReader { return newFrameReaderSize(r, defaultLinkBuffer) }

func newFrameReaderSize(r io.Reader, size int) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, size)}
}

// Next returns the next frame. An error wrapping errSkipped means the frame was
// consumed and ignored (reason in the error); any other error ends the stream.
func (fr *frameReader) Next() (Frame, error) {
	if _, err := io.ReadFull(fr.r, fr.header[:]); err != nil {
		return Frame{}, err
	}
	ver, typ := fr.header[0], fr.header[1]
	n := binary.BigEndian.Uint32(fr.header[2:])
	if n > MaxFrame {
		if _, err := io.CopyN(io.Discard, fr.r, int64(n)); err != nil {
			return Frame{}, err
		}
		return Frame{}, fmt.Errorf("%w: oversized (%d bytes)", errSkipped, n)
	}
	// Large payloads (file chunks) come from the pool: the handler owns the
	// payload and may hand it back with bufpool.Put once done with it (the file
	// service does, for chunks), so a fast transfer does not make garbage here.
	// ReadFull overwrites every byte, so an unzeroed buffer is fine.
	payload := bufpool.Get(int(n))
	if _, err := io.ReadFull(fr.r, payload); err != nil {
		return Frame{}, err
	}
	if ver != frameVersion {
		bufpool.Put(payload)
		return Frame{}, fmt.Errorf("%w: version %d", errSkipped, ver)
	}
	return Frame{Type: typ, Payload: payload}, nil
}

// DecodeFrame parses exactly one frame from b (used by tests and the fuzzer; links use
// the streaming reader, which shares the rules).
func DecodeFrame(b []byte) (Frame, error) {
	if len(b) < frameHeaderLen {
		return Frame{}, fmt.Errorf("frame: %d bytes, want at least %d", len(b), frameHeaderLen)
	}
	n := binary.BigEndian.Uint32(b[2:])
	if uint64(len(b)-frameHeaderLen) != uint64(n) {
		return Frame{}, fmt.Errorf("frame: length field %d, have %d payload bytes", n, len(b)-frameHeaderLen)
	}
	fr := newFrameReader(bytes.NewReader(b))
	return fr.Next()
}
