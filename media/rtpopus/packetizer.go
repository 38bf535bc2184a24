// Package rtpopus numbers Opus packets as RTP for a pion track, the one way a
// call's legs and the browser bridge both send: 20 ms frames, DTX frames not
// sent, the marker on the first packet after a pause (RFC 7587).
package rtpopus

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"

	"parley/media/audio"
)

// DTXMax is the largest Opus packet that only says "still silent": the far end
// fills the pause with comfort noise, so it is not sent.
const DTXMax = 2

// Packetizer numbers the packets of one outgoing stream. The timestamp moves on
// over a pause while the sequence number does not, which is how a receiver tells
// a silent pause from loss. The zero value starts at 0; New starts at random
// values, as RFC 3550 asks.
type Packetizer struct {
	seq     uint16
	ts      uint32
	talking bool
}

// New returns a Packetizer starting at a random sequence number and timestamp.
func New() Packetizer {
	var b [6]byte
	rand.Read(b[:])
	return Packetizer{seq: binary.BigEndian.Uint16(b[:2]), ts: binary.BigEndian.Uint32(b[2:])}
}

// Next returns the packet for one 20 ms Opus frame, or nil for a DTX frame,
// which is not sent. The payload type is the track's to set (pion writes the
// negotiated one).
func (p *Packetizer) Next(payload []byte) *rtp.Packet {
	defer func() { p.ts += uint32(audio.FrameSamples) }()
	if len(payload) <= DTXMax {
		p.talking = false
		return nil
	}
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: p.seq, Timestamp: p.ts, Marker: !p.talking}, Payload: payload}
	p.seq++
	p.talking = true
	return pkt
}

// Write sends one frame's packet on t; sent is false for a DTX frame.
func (p *Packetizer) Write(t *webrtc.TrackLocalStaticRTP, payload []byte) (sent bool, err error) {
	pkt := p.Next(payload)
	if pkt == nil {
		return false, nil
	}
	return true, t.WriteRTP(pkt)
}
