// Package media will hold Parley's voice calls: WebRTC (pion/webrtc v3) with Opus,
// audio devices behind a small interface, and TURN relaying through peers chosen by
// link quality. Nothing is implemented yet; the overlay's ping RTT measurements and
// peer records are the groundwork it builds on.
//
// Sub-packages: audio (devices, WAV files, tones: the PCM edge), opus (the codec),
// jitter (the adaptive jitter buffer), voice (source → Opus → packets and packets →
// jitter buffer → Opus → sink, without WebRTC), signal (alignment, SNR and pitch
// measurements for tests) and call (WebRTC calls built on voice).
package media
