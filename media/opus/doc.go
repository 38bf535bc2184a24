// Package opus is the voice codec: a thin layer over libopus (cgo, found with
// pkg-config) fixed to what a Parley call uses, 48 kHz mono in 20 ms frames, with
// the VoIP application profile and the voice signal hint. The decoder goes through
// gopkg.in/hraban/opus.v2; the encoder is bound here (encoder.go), because that
// package cannot set the signal type.
//
// It exists so the rest of the pipeline states its intent (a bitrate, forward error
// correction, DTX, the loss it expects) instead of repeating encoder controls, and so
// the three ways of producing a frame at the receiver are named: Decode for a packet
// that arrived, DecodeFEC for a lost packet whose successor arrived (Opus in-band FEC
// carries a coarse copy of each frame in the next packet), and DecodePLC for a lost
// packet with nothing to recover it from (the decoder extrapolates).
//
// Encoder and Decoder are not safe for concurrent use; each belongs to one loop.
package opus
