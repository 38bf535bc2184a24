package rtpbridge

import (
	"errors"

	"github.com/pion/rtp"

	"parley/media/audio"
	"parley/media/opus"
)

// Opus with the phone (RFC 7587: "opus/48000/2", a dynamic payload type, a
// 48 kHz RTP clock). Two ways to carry it:
//
//   - passthrough (SetPassthrough(true), a 1:1 call): the call reads the
//     phone's packets as they came (ReadOpus) and sends them on its WebRTC
//     track, and hands the far end's packets to WriteOpus, which only
//     renumbers them into this session. Nothing is decoded or encoded here;
//     the PCM Source gives silence (it only paces the call) and the PCM Sink
//     drops what it is given.
//   - transcoding (a group call, whose mixer needs PCM): Source decodes the
//     queued packets, Sink encodes each frame (media/opus, Parley's own
//     settings). The codec state is made on first use only.
//
// DTMF beside Opus: telephone-event/48000 when the phone offers it, else
// its telephone-event/8000 (sdp.go). Digits to the phone replace the
// passed-through packets while they sound (WriteOpus), as they replace
// encoded voice when transcoding (sink.WriteFrame).

// PTOpus is the payload type this end offers Opus as (dynamic; an answer
// reuses the phone's).
const PTOpus = 111

// ErrNotOpus is WriteOpus on a session that did not negotiate Opus.
var ErrNotOpus = errors.New("rtpbridge: Opus not negotiated")

// OpusStats counts the Opus paths (Bridge.OpusStats).
type OpusStats struct {
	// PassedIn, PassedOut: packets forwarded as they were, phone → call
	// and call → phone. Decoded, Encoded: frames transcoded instead.
	PassedIn, PassedOut, Decoded, Encoded uint64
	// NotTwenty: packets passthrough dropped for not holding one 20 ms
	// frame (the call's track sends 20 ms a tick). Failed: packets that
	// did not decode, frames that did not encode. UnderDigits: packets to
	// the phone left out while a DTMF digit sounded in their place.
	NotTwenty, Failed, UnderDigits uint64
}

// OpusStats is what the Opus paths counted so far.
func (b *Bridge) OpusStats() OpusStats {
	return OpusStats{PassedIn: b.passedIn.Load(), PassedOut: b.passedOut.Load(), Decoded: b.opusDecoded.Load(),
		Encoded: b.opusEncoded.Load(), NotTwenty: b.notTwenty.Load(), Failed: b.opusFailed.Load(),
		UnderDigits: b.underDigits.Load()}
}

// Opus says whether the session negotiated Opus.
func (b *Bridge) Opus() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remote.Opus
}

// Forwardable says whether the phone's packets can be forwarded as they
// are: Opus, and every packet so far one 20 ms frame, what the call's track
// sends a tick. A phone that sends other lengths (ptime 40, 10 ms frames)
// is transcoded for the rest of the session instead of falling silent: the
// decoder takes any length, and the call switches on its next frame.
func (b *Bridge) Forwardable() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remote.Opus && !b.oddFrames
}

// SetPassthrough switches between forwarding Opus (on) and transcoding.
// Either way round, queued audio of the other kind is dropped (it is at most
// 200 ms) and the next forwarded packet starts a new timestamp mapping.
func (b *Bridge) SetPassthrough(on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pass == on {
		return
	}
	b.pass, b.passMapped = on, false
	b.queue, b.part = nil, b.part[:0]
}

// ReadOpus moves the oldest queued packet from the phone into dst (at least
// opus.MaxPacket long) and returns its length; ok is false with none
// queued. Only packets of one 20 ms frame are given; others are dropped
// and counted (NotTwenty).
func (b *Bridge) ReadOpus(dst []byte) (n int, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.opusQ) > 0 {
		p := b.opusQ[0]
		b.opusQ = b.opusQ[1:]
		if OpusSamples(p) != audio.FrameSamples || len(p) > len(dst) {
			b.notTwenty.Add(1)
			continue
		}
		b.passedIn.Add(1)
		return copy(dst, p), true
	}
	return 0, false
}

// WriteOpus sends one packet from the call to the phone as it is. ts is the
// packet's RTP timestamp at its sender (48 kHz): the gaps between packets
// (DTX) are kept, the numbering is this session's.
func (b *Bridge) WriteOpus(payload []byte, ts uint32) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	remote := b.remote
	if !remote.Addr.IsValid() {
		b.mu.Unlock()
		return nil
	}
	if !remote.Opus {
		b.mu.Unlock()
		return ErrNotOpus
	}
	if !b.passMapped {
		b.passOffset, b.passMapped = b.ts-ts, true
	}
	out := ts + b.passOffset
	if len(b.dtmfOut) > 0 && remote.EventPT != 0 && b.evStep <= toneFrames {
		// A digit is sounding or about to (sink.WriteFrame sends it and
		// moves the clock on): its time is not voice's. The gap after it
		// is.
		b.mu.Unlock()
		b.underDigits.Add(1)
		return nil
	}
	b.ts = out + audio.FrameSamples // a switch to transcoding goes on from here
	if !remote.Dir.Receives() {
		b.mu.Unlock()
		b.heldFrames.Add(1)
		return nil
	}
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: remote.PT, SequenceNumber: b.seq, Timestamp: out, SSRC: b.ssrc}, Payload: payload}
	b.seq++
	pkt, err := p.Marshal()
	b.mu.Unlock()
	if err != nil {
		return err
	}
	if _, err := b.conn.WriteToUDPAddrPort(pkt, remote.Addr); err == nil {
		b.passedOut.Add(1)
		b.packetsOut.Add(1)
	}
	return nil
}

// queueOpusLocked keeps one packet from the phone (receive, b.mu held).
func (b *Bridge) queueOpusLocked(payload []byte) {
	if OpusSamples(payload) != audio.FrameSamples {
		b.oddFrames = true // Forwardable
	}
	if len(b.opusQ) >= queueFrames {
		b.opusQ = b.opusQ[1:]
		b.dropQueue.Add(1)
	}
	b.opusQ = append(b.opusQ, append([]byte(nil), payload...))
}

// decodeQueuedLocked decodes queued packets until a whole frame is queued as
// PCM or none is left (Source while transcoding, b.mu held).
func (b *Bridge) decodeQueuedLocked() {
	for len(b.queue) == 0 && len(b.opusQ) > 0 {
		p := b.opusQ[0]
		b.opusQ = b.opusQ[1:]
		if b.dec == nil {
			d, err := opus.NewDecoder()
			if err != nil {
				b.opusFailed.Add(1)
				return
			}
			b.dec, b.pcm = d, make([]int16, 6*audio.FrameSamples)
		}
		n, err := b.dec.Decode(p, b.pcm)
		if err != nil {
			b.opusFailed.Add(1)
			continue
		}
		b.opusDecoded.Add(1)
		b.part = append(b.part, b.pcm[:n]...)
		b.framePartLocked()
	}
}

// encodeLocked encodes one frame for the phone (Sink while transcoding,
// b.mu held); nil when it did not encode.
func (b *Bridge) encodeLocked(src []int16) []byte {
	if b.enc == nil {
		e, err := opus.NewEncoder(opus.Options{})
		if err != nil {
			b.opusFailed.Add(1)
			return nil
		}
		b.enc = e
	}
	out := make([]byte, opus.MaxPacket)
	n, err := b.enc.Encode(src, out)
	if err != nil {
		b.opusFailed.Add(1)
		return nil
	}
	b.opusEncoded.Add(1)
	return out[:n]
}

// OpusSamples is how many 48 kHz samples an Opus packet holds, from its TOC
// byte (RFC 6716 §3.1), or 0 for a packet that is not valid Opus framing.
func OpusSamples(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	toc := p[0]
	config := int(toc >> 3)
	var per int // samples per frame at 48 kHz
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		per = []int{480, 960, 1920, 2880}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		per = []int{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		per = []int{120, 240, 480, 960}[config%4]
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0
		}
		frames = int(p[1] & 0x3f)
	}
	if n := frames * per; n > 0 && n <= 5760 { // at most 120 ms
		return n
	}
	return 0
}
