// Package media holds Parley's voice calls. This package itself is empty; the work
// is in its sub-packages, from the sound card up to a WebRTC call:
//
//   - audio: the PCM edge. 48 kHz mono 16-bit frames of 20 ms from and to a sound
//     device (miniaudio, through malgo), a WAV file, a tone or silence, behind the
//     Source and Sink interfaces (the --audio-in and --audio-out specs).
//   - opus: the codec, libopus through cgo, fixed to what a call uses (48 kHz mono,
//     20 ms frames, VoIP profile, in-band FEC, DTX).
//   - jitter: the receiver's adaptive jitter buffer: packets in as they arrive, one
//     frame out per 20 ms, choosing between the packet, its successor's FEC,
//     concealment and silence, and stretching or skipping to move its delay.
//   - voice: the two halves of a call's audio without any transport: Sender
//     (source → Opus → payloads) and Receiver (payloads → jitter buffer → Opus →
//     sink), both driven by the caller's clock so tests run without sleeping.
//   - call: the calls themselves. WebRTC (pion/webrtc v3) peer connections with one
//     Opus track each way, signalling messages the node seals and sends over the
//     overlay, trickled host ICE candidates, legs relayed through a peer's TURN
//     relay when there is no direct path, group calls as a full mesh up to 4 and
//     mixed by one participant for 5–6, and the per-leg statistics behind
//     call_stats.
//   - relay: the TURN server (RFC 5766, UDP, pion/turn v2) every peer runs on
//     port 48557 so that two peers who cannot reach each other can still call
//     through a third, with per-call credentials and caps on sessions, hosts and
//     bandwidth.
//   - webbridge: a browser guest's audio. A pion answerer for the page's offer
//     (non-trickle, one Opus track each way) whose inbound audio is a Source and
//     whose Sink is sent to the page, so a guest's node calls with the browser as
//     its microphone and loudspeaker (node/guestmedia.go).
//   - signal: measurements for tests only: alignment, SNR, pitch and level of a
//     recording.
//
// The node (node/calls.go, node/audio.go) wires call to the overlay, the relay
// selection and the audio settings; nothing in media imports the overlay.
package media
