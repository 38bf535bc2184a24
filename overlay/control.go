package overlay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"parley/internal/team"
)

// Decoders for the overlay's own control payloads, straight off the wire. They are
// pure so they can be table-tested and fuzzed apart from the link state they feed;
// a payload one rejects is dropped and counted by dispatch (*_drop_malformed).

// errControl marks a control payload that does not decode.
var errControl = errors.New("malformed control payload")

// pingLen is the size of a ping payload, [nonce u64][sender clock, unix µs u64].
const pingLen = 16

// pingPayload is a ping, and the pong that echoes it.
type pingPayload struct {
	Nonce      uint64
	SentMicros uint64 // the sender's clock; informative only, RTT uses our own
}

// appendPing encodes a ping (rttStats.nextPing); the peer echoes it as the pong.
func appendPing(dst []byte, p pingPayload) []byte {
	dst = binary.BigEndian.AppendUint64(dst, p.Nonce)
	return binary.BigEndian.AppendUint64(dst, p.SentMicros)
}

// decodePong parses a pong. It is our own ping echoed, so it is exactly pingLen
// bytes: anything longer or shorter is not an echo of ours.
func decodePong(b []byte) (pingPayload, error) {
	if len(b) != pingLen {
		return pingPayload{}, fmt.Errorf("%w: pong of %d bytes, want %d", errControl, len(b), pingLen)
	}
	return pingPayload{Nonce: binary.BigEndian.Uint64(b), SentMicros: binary.BigEndian.Uint64(b[8:])}, nil
}

// probeHeaderLen is the size of a probe frame's header; filler follows it.
const probeHeaderLen = 8

// probeHeader starts each frame of a capacity probe burst.
type probeHeader struct {
	ID           uint32
	Index, Count uint16 // this frame's place in the burst, and the burst's length
}

func appendProbeHeader(dst []byte, h probeHeader) []byte {
	dst = binary.BigEndian.AppendUint32(dst, h.ID)
	dst = binary.BigEndian.AppendUint16(dst, h.Index)
	return binary.BigEndian.AppendUint16(dst, h.Count)
}

// decodeProbe parses a probe frame's header; the filler after it may be of any
// length. A frame outside its own burst (index not below count) is malformed: it
// could never be the last one, which is what ends the timing.
func decodeProbe(b []byte) (probeHeader, error) {
	if len(b) < probeHeaderLen {
		return probeHeader{}, fmt.Errorf("%w: probe of %d bytes, want at least %d", errControl, len(b), probeHeaderLen)
	}
	h := probeHeader{
		ID:    binary.BigEndian.Uint32(b),
		Index: binary.BigEndian.Uint16(b[4:]),
		Count: binary.BigEndian.Uint16(b[6:]),
	}
	if h.Index >= h.Count {
		return probeHeader{}, fmt.Errorf("%w: probe frame %d of %d", errControl, h.Index, h.Count)
	}
	return h, nil
}

// probeReportLen is the size of a probe report.
const probeReportLen = 12

// maxProbeReportBytes is every byte one of our bursts puts on the wire (frame
// headers included). A report answers our own probe, so it cannot have timed more.
const maxProbeReportBytes = probeFrames * (probeFrameSize + frameHeaderLen)

// probeReport is the receiver's measurement of a probe burst.
type probeReport struct {
	ID     uint32
	Bytes  uint32 // bytes between the first and the last frame (the first only starts the clock)
	Micros uint32 // time from the first frame to the last
}

func appendProbeReport(dst []byte, r probeReport) []byte {
	dst = binary.BigEndian.AppendUint32(dst, r.ID)
	dst = binary.BigEndian.AppendUint32(dst, r.Bytes)
	return binary.BigEndian.AppendUint32(dst, r.Micros)
}

// decodeProbeReport parses a probe report. Bytes after the three fields are
// ignored, as in records: a later version may append fields.
func decodeProbeReport(b []byte) (probeReport, error) {
	if len(b) < probeReportLen {
		return probeReport{}, fmt.Errorf("%w: probe report of %d bytes, want %d", errControl, len(b), probeReportLen)
	}
	r := probeReport{
		ID:     binary.BigEndian.Uint32(b),
		Bytes:  binary.BigEndian.Uint32(b[4:]),
		Micros: binary.BigEndian.Uint32(b[8:]),
	}
	if r.Bytes > maxProbeReportBytes {
		return probeReport{}, fmt.Errorf("%w: probe report claims %d bytes, a burst is at most %d", errControl, r.Bytes, maxProbeReportBytes)
	}
	return r, nil
}

// teamProofFrameLen is the whole TypeTeamProof frame: header and tag.
const teamProofFrameLen = frameHeaderLen + team.TagLen

// readTeamProof reads one frame from r and returns its tag if it is a team proof.
// It reads unbuffered and never past that frame: what follows belongs to the link.
// A frame that is not a team proof is refused from its header alone, so a peer
// cannot make us read (or allocate for) a large first frame.
func readTeamProof(r io.Reader) ([]byte, error) {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("read proof: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[2:])
	if hdr[0] != frameVersion || hdr[1] != TypeTeamProof || n != team.TagLen {
		return nil, fmt.Errorf("first frame is version %d type %d (%d bytes), not a team proof", hdr[0], hdr[1], n)
	}
	tag := make([]byte, team.TagLen)
	if _, err := io.ReadFull(r, tag); err != nil {
		return nil, fmt.Errorf("read proof: %w", err)
	}
	return tag, nil
}
