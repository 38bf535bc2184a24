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
}

// Encoder turns 20 ms frames of PCM into Opus packets.
type Encoder struct {
	enc *hopus.Encoder
}

// NewEncoder returns an encoder configured for VoIP at 48 kHz mono.
func NewEncoder(o Options) (*Encoder, error) {
	enc, err := hopus.NewEncoder(audio.SampleRate, audio.Channels, hopus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("opus: new encoder: %w", err)
	}
	e := &Encoder{enc: enc}
	if o.Bitrate == 0 {
		o.Bitrate = DefaultBitrate
	}
	if err := e.SetBitrate(o.Bitrate); err != nil {
		return nil, err
	}
	if err := enc.SetInBandFEC(o.FEC); err != nil {
		return nil, fmt.Errorf("opus: set FEC: %w", err)
	}
	if err := enc.SetDTX(o.DTX); err != nil {
		return nil, fmt.Errorf("opus: set DTX: %w", err)
	}
	if err := e.SetExpectedLoss(o.ExpectedLossPercent); err != nil {
		return nil, err
	}
	return e, nil
}

// SetBitrate changes the target bitrate (bit/s) from the next frame on.
func (e *Encoder) SetBitrate(bps int) error {
	if err := e.enc.SetBitrate(bps); err != nil {
		return fmt.Errorf("opus: set bitrate %d: %w", bps, err)
	}
	return nil
}

// SetExpectedLoss changes the loss percentage FEC is tuned for, e.g. from the far
// end's receiver reports.
func (e *Encoder) SetExpectedLoss(percent int) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("opus: expected loss %d%% out of range", percent)
	}
	if err := e.enc.SetPacketLossPerc(percent); err != nil {
		return fmt.Errorf("opus: set expected loss: %w", err)
	}
	return nil
}

// Encode compresses one frame (len audio.FrameSamples) into out and returns the
// packet length. out should have room for MaxPacket bytes. With DTX on, a packet of
// 2 bytes or fewer means "silence, nothing worth sending".
func (e *Encoder) Encode(pcm []int16, out []byte) (int, error) {
	if len(pcm) != audio.FrameSamples {
		return 0, fmt.Errorf("opus: encode %d samples, want %d", len(pcm), audio.FrameSamples)
	}
	n, err := e.enc.Encode(pcm, out)
	if err != nil {
		return 0, fmt.Errorf("opus: encode: %w", err)
	}
	return n, nil
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
