// Package rtpbridge carries a SIP phone's audio (issue 19): plain RTP
// (RFC 3550) over UDP with G.711 µ-law (PCMU, payload type 0) or A-law (PCMA,
// 8) at 8 kHz, transcoded to and from the 48 kHz mono 20 ms frames of
// media/audio. The node makes a Bridge a SIP device's call audio (Source and
// Sink), as media/webbridge does for a browser.
//
// What it parses from the network — SDP offers and answers (sdp.go) and RTP
// packets (bridge.go) — is bounded and checked: an SDP body of at most 8 KiB,
// media addresses only where the node's filter allows (the LAN), RTP only from
// the address the SDP named, at most maxPacketRate packets a second; every
// drop is counted in Stats.
package rtpbridge
