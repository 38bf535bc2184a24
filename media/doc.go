// Package media will hold Parley's voice calls: WebRTC (pion/webrtc v3) with Opus,
// audio devices behind a small interface, and TURN relaying through peers chosen by
// link quality. Nothing is implemented yet; the overlay's ping RTT measurements and
// peer records are the groundwork it builds on.
package media
