package webbridge

import (
	"errors"
	"io"
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"

	"parley/media/audio"
	"parley/media/opus"
	"parley/media/signal"
)

// receive decodes the browser's track into the frame queue until the track
// ends (the connection closed). Packets are decoded as they arrive, in
// order; a packet behind the newest is late and dropped (on a LAN reordering
// is rare, and the frames around it were already queued), a short gap is
// filled with the decoder's concealment.
func (b *Bridge) receive(t *webrtc.TrackRemote) {
	if t.Kind() != webrtc.RTPCodecTypeAudio || !strings.EqualFold(t.Codec().MimeType, webrtc.MimeTypeOpus) {
		// CheckOffer admits nothing else; read nothing, pion drops it.
		b.log.Warn("browser media: unexpected track", "kind", t.Kind().String(), "codec", t.Codec().MimeType)
		return
	}
	in, err := b.newInbound(uint8(t.PayloadType()))
	if err != nil {
		b.log.Warn("browser media: no decoder", "err", err)
		return
	}
	buf := make([]byte, 1500) // an Ethernet MTU: no RTP packet over UDP on a LAN is larger
	var pkt rtp.Packet
	var budget packetBudget
	for {
		n, _, err := t.Read(buf)
		if errors.Is(err, io.ErrShortBuffer) {
			b.count(func(c *inCounters) { c.refused++ })
			continue
		}
		if err != nil {
			return
		}
		if !budget.allow(time.Now()) {
			b.count(func(c *inCounters) { c.flooded++ })
			continue
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			b.count(func(c *inCounters) { c.refused++ })
			continue
		}
		in.packet(&pkt)
	}
}

// Inbound packets are rate-limited before they are decoded (≈30 µs each):
// a browser sends 50 a second (20 ms packets), 100 at its shortest ptime;
// anything else speaking WebRTC to the bridge could send thousands. The
// burst covers a Wi-Fi stall of 2 s delivered at once.
const (
	maxPacketRate  = 200 // per second, sustained
	maxPacketBurst = 100
)

// packetBudget is a token bucket of inbound packets.
type packetBudget struct {
	tokens float64
	last   time.Time
}

func (p *packetBudget) allow(now time.Time) bool {
	if p.last.IsZero() {
		p.tokens = maxPacketBurst
	} else if d := now.Sub(p.last); d > 0 {
		p.tokens = min(maxPacketBurst, p.tokens+d.Seconds()*maxPacketRate)
	}
	p.last = now
	if p.tokens < 1 {
		return false
	}
	p.tokens--
	return true
}

// inbound is the receiving loop's state: the decoder and the last sequence
// number.
type inbound struct {
	b       *Bridge
	pt      uint8
	dec     *opus.Decoder
	pcm     []int16 // 120 ms, the longest Opus packet; Decode keeps only what fits
	frame   []int16
	last    uint16
	started bool
}

func (b *Bridge) newInbound(pt uint8) (*inbound, error) {
	dec, err := opus.NewDecoder()
	if err != nil {
		return nil, err
	}
	return &inbound{b: b, pt: pt, dec: dec, pcm: make([]int16, 6*audio.FrameSamples), frame: make([]int16, audio.FrameSamples)}, nil
}

// packet decodes one RTP packet into the queue.
func (in *inbound) packet(pkt *rtp.Packet) {
	b := in.b
	if pkt.PayloadType != in.pt || len(pkt.Payload) == 0 || len(pkt.Payload) > maxPayload {
		b.count(func(c *inCounters) { c.refused++ })
		return
	}
	conceal := 0
	if in.started {
		switch d := int16(pkt.SequenceNumber - in.last); {
		case d <= 0 && d > -maxMisorder:
			b.count(func(c *inCounters) { c.late++ })
			return
		case d <= 0:
			b.count(func(c *inCounters) { c.restarts++ })
		case d > 1 && d <= maxConceal+1:
			conceal = int(d) - 1
		}
	}
	in.started, in.last = true, pkt.SequenceNumber
	for range conceal {
		if in.dec.DecodePLC(in.frame) == nil {
			b.push(in.frame, nil, func(c *inCounters) { c.concealed++ })
		}
	}
	got, err := in.dec.Decode(pkt.Payload, in.pcm)
	if err != nil {
		// One bad packet costs one frame, not the stream.
		if in.dec.DecodePLC(in.frame) != nil {
			clear(in.frame)
		}
		b.push(in.frame, nil, func(c *inCounters) { c.decodeErrors++ })
		return
	}
	r := signal.RMS(in.pcm[:got])
	b.push(in.pcm[:got], &r, func(c *inCounters) { c.packets++ })
}

// levelWeight smooths the inbound level over about five packets (100 ms, a
// level meter's usual integration time): one packet after a loss, decoded
// while the decoder recovers, would otherwise read 10 dB low.
const levelWeight = 0.2

// push queues decoded samples and counts, under the lock; rms, if given (a
// packet decoded, as a fraction of full scale), moves the inbound level.
func (b *Bridge) push(pcm []int16, rms *float64, count func(*inCounters)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	count(&b.in)
	if rms != nil {
		b.power += levelWeight * (*rms**rms - b.power)
	}
	if !b.closed {
		b.q.push(pcm)
	}
}

func (b *Bridge) count(f func(*inCounters)) {
	b.mu.Lock()
	f(&b.in)
	b.mu.Unlock()
}
