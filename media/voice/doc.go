// Package voice joins the audio edge, the codec and the jitter buffer into the two
// halves of a call's audio, without knowing how packets travel:
//
//	Sender:   audio.Source → opus.Encoder → write(payload, 20 ms)
//	Receiver: Push(seq, timestamp, payload, arrival) → jitter.Buffer
//	          → (one frame per tick) opus.Decoder → audio.Sink
//
// The call package wires write to an RTP track and Push to the packets read from the
// remote one; tests wire them to each other through a simulated network.
//
// # Timing
//
// The Sender is paced by its source (a capture device, or audio.Paced); it does no
// timing of its own. The Receiver is paced by the ticks given to Run, one per 20 ms,
// and passes each tick's time to the jitter buffer as "now", so the packets' arrival
// times must come from the same clock. Tests send both by hand and never sleep.
//
// # Mute and DTX
//
// A muted Sender keeps reading its source (so a device does not overflow and the
// pace holds) but encodes silence, and keeps calling write every frame: the RTP
// timestamps and sequence numbers then advance exactly as when unmuted, and the far
// end's jitter buffer sees an ordinary quiet stream rather than a gap it must guess
// about. With the encoder's DTX on, those silent frames shrink to 1–2 byte packets.
// write is handed every packet including those; a transport that can advance its
// RTP timestamp without sending may skip them (2 bytes or fewer), which is real
// DTX, and the receiving jitter buffer recognises the gap. One that cannot (pion's
// sample writer does not advance timestamps for empty samples) should send them.
package voice
