package opus

import (
	"fmt"

	hopus "gopkg.in/hraban/opus.v2"

	"parley/media/audio"
)

const (
	// DefaultBitrate suits wideband speech: well above where Opus voice quality
	// levels off, still tiny next to a LAN.
	DefaultBitrate = 24000
	// MaxPacket is the largest packet one 20 ms frame can encode to (RFC 6716
	// limits a frame to 1275 bytes); an Encode buffer this size never runs short.
	MaxPacket = 1275
	// maxDecodeSamples is 120 ms, the longest packet Opus allows, so a peer that
	// sends longer frames than ours is still decoded rather than rejected.
	maxDecodeSamples = 6 * audio.FrameSamples
)

// Options configures an Encoder. The zero value is 24 kbit/s without FEC or DTX.
type Options struct {
	// Bitrate in bit/s; 0 means DefaultBitrate.
	Bitrate int
	// FEC adds in-band forward error correction: each packet carries a low-rate copy
	// of the previous frame, which the receiver decodes when that frame was lost.
	// Opus only spends bits on it when ExpectedLossPercent is above zero.
	FEC bool
	// DTX lets the encoder send a 1–2 byte packet instead of a full frame during
	// silence (with a comfort-noise update every 400 ms).
	DTX bool
	// ExpectedLossPercent (0–100) tunes how much FEC protection to spend.
	ExpectedLossPercent int
	// Complexity (1–10) trades encoder CPU for quality; 0 means
	// DefaultComplexity.
	Complexity int
}

// DefaultComplexity is the encoder's effort. libopus defaults to 9; at 7 a
// frame of speech costs about a fifth less on the 2-vCPU machine the budgets
// are measured on (≈320 against ≈390 µs, best of three runs), and 7 is the
// lowest setting that keeps the waveform: at 6 and below, one second of the
// call test's 250–1500 Hz sweep fell from 28 to 13 dB SNR. Speech at 24 kbit/s
// gains nothing audible from 8–10.
const DefaultComplexity = 7

// Encoder turns 20 ms frames of PCM into Opus packets.
type Encoder struct {
	enc *libEncoder
}

// NewEncoder returns an encoder configured for VoIP at 48 kHz mono, told that
// its signal is voice. Without that hint libopus classifies each frame as speech
// or music, and with no loss to protect against it codes "music" — a whistle, a
// steady tone, a held vowel — with CELT, whose waveform is less faithful at
// speech bitrates: the lowest second of the call test's sweep came out at
// 17.5 dB SNR, against 22.6 dB with the hint (SILK). A call is voice, so the hint
// is right for everything Parley sends.
func NewEncoder(o Options) (*Encoder, error) {
	enc, err := newLibEncoder()
	if err != nil {
		return nil, fmt.Errorf("opus: new encoder: %w", err)
	}
	e := &Encoder{enc: enc}
	if o.Bitrate == 0 {
		o.Bitrate = DefaultBitrate
	}
	if o.Complexity == 0 {
		o.Complexity = DefaultComplexity
	}
	if o.Complexity < 1 || o.Complexity > 10 {
		return nil, fmt.Errorf("opus: complexity %d out of range 1–10", o.Complexity)
	}
	if err := e.SetBitrate(o.Bitrate); err != nil {
		return nil, err
	}
	for _, set := range []func() error{
		enc.setVoice,
		func() error { return enc.setComplexity(o.Complexity) },
		func() error { return enc.setFEC(o.FEC) },
		func() error { return enc.setDTX(o.DTX) },
	} {
		if err := set(); err != nil {
			return nil, err
		}
	}
	if err := e.SetExpectedLoss(o.ExpectedLossPercent); err != nil {
		return nil, err
	}
	return e, nil
}

// SetBitrate changes the target bitrate (bit/s) from the next frame on.
func (e *Encoder) SetBitrate(bps int) error { return e.enc.setBitrate(bps) }

// SetExpectedLoss changes the loss percentage FEC is tuned for, e.g. from the far
// end's receiver reports.
func (e *Encoder) SetExpectedLoss(percent int) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("opus: expected loss %d%% out of range", percent)
	}
	return e.enc.setLoss(percent)
}

// Encode compresses one frame (len audio.FrameSamples) into out and returns the
// packet length. out should have room for MaxPacket bytes. With DTX on, a packet of
// 2 bytes or fewer means "silence, nothing worth sending".
func (e *Encoder) Encode(pcm []int16, out []byte) (int, error) {
	if len(pcm) != audio.FrameSamples {
		return 0, fmt.Errorf("opus: encode %d samples, want %d", len(pcm), audio.FrameSamples)
	}
	if len(out) == 0 {
		return 0, fmt.Errorf("opus: encode into an empty buffer")
	}
	return e.enc.encode(pcm, out)
}

// Decoder turns Opus packets back into PCM.
type Decoder struct {
	dec *hopus.Decoder
	// buf is large enough for any packet, so a peer with longer frames cannot make
	// Decode fail; callers still get only what fits their pcm.
	buf []int16
}

// NewDecoder returns a 48 kHz mono decoder.
func NewDecoder() (*Decoder, error) {
	dec, err := hopus.NewDecoder(audio.SampleRate, audio.Channels)
	if err != nil {
		return nil, fmt.Errorf("opus: new decoder: %w", err)
	}
	return &Decoder{dec: dec, buf: make([]int16, maxDecodeSamples)}, nil
}

// Decode decodes pkt into pcm and returns the number of samples the packet held
// (audio.FrameSamples for Parley's own 20 ms packets). If the packet held more than
// pcm has room for, the rest is discarded.
func (d *Decoder) Decode(pkt []byte, pcm []int16) (int, error) {
	if len(pkt) == 0 {
		return 0, fmt.Errorf("opus: decode: empty packet")
	}
	n, err := d.dec.Decode(pkt, d.buf)
	if err != nil {
		return 0, fmt.Errorf("opus: decode %d-byte packet: %w", len(pkt), err)
	}
	copy(pcm, d.buf[:n])
	return n, nil
}

// DecodeFEC rebuilds the frame lost just before nextPkt from the FEC data nextPkt
// carries, filling all of pcm (one frame). Without FEC data in nextPkt, libopus
// conceals instead. nextPkt must then be decoded normally as the following frame.
func (d *Decoder) DecodeFEC(nextPkt []byte, pcm []int16) error {
	if len(nextPkt) == 0 {
		return fmt.Errorf("opus: FEC decode: empty packet")
	}
	// libopus takes the frame length from the buffer's capacity, so pin it to len.
	if err := d.dec.DecodeFEC(nextPkt, pcm[:len(pcm):len(pcm)]); err != nil {
		return fmt.Errorf("opus: FEC decode of %d samples: %w", len(pcm), err)
	}
	return nil
}

// DecodePLC fills pcm (one frame) with the decoder's concealment of a lost frame.
func (d *Decoder) DecodePLC(pcm []int16) error {
	if err := d.dec.DecodePLC(pcm[:len(pcm):len(pcm)]); err != nil {
		return fmt.Errorf("opus: conceal %d samples: %w", len(pcm), err)
	}
	return nil
}
