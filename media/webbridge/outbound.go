package webbridge

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"

	"parley/media/audio"
)

// send encodes one frame and writes it to the browser's track. Before the
// browser is connected the track has no binding and the write goes nowhere.
func (b *Bridge) send(pcm []int16) {
	b.sendMu.Lock()
	defer b.sendMu.Unlock()
	n, err := b.enc.Encode(pcm, b.pkt)
	if err != nil {
		b.countOut(func(c *outCounters) { c.encodeErrors++ })
		return
	}
	sent, err := b.pk.write(b.track, b.pkt[:n])
	b.countOut(func(c *outCounters) {
		c.frames++
		if sent {
			c.packets++
		}
		if err != nil {
			c.sendErrors++
		}
	})
}

func (b *Bridge) countOut(f func(*outCounters)) {
	b.mu.Lock()
	f(&b.out)
	b.mu.Unlock()
}

// packetizer numbers Opus packets as RTP, the way a call's does
// (media/call/media.go): DTX frames (≤ 2 bytes) are not sent, the timestamp
// moves on while the sequence number does not, which is how the browser tells
// a silent pause from loss (RFC 7587), and the first packet after a pause
// carries the marker.
type packetizer struct {
	seq     uint16
	ts      uint32
	talking bool
}

func newPacketizer() packetizer {
	var b [6]byte
	rand.Read(b[:])
	return packetizer{seq: binary.BigEndian.Uint16(b[:2]), ts: binary.BigEndian.Uint32(b[2:])}
}

// dtxMax is the largest Opus packet that only says "still silent".
const dtxMax = 2

func (p *packetizer) write(t *webrtc.TrackLocalStaticRTP, payload []byte) (bool, error) {
	defer func() { p.ts += uint32(audio.FrameSamples) }()
	if len(payload) <= dtxMax {
		p.talking = false
		return false, nil
	}
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: opusPayloadType, SequenceNumber: p.seq, Timestamp: p.ts, Marker: !p.talking}, Payload: payload}
	p.seq++
	p.talking = true
	return true, t.WriteRTP(pkt)
}
