// Package webbridge connects a browser's WebRTC audio to Parley's call audio:
// a pion answerer for one browser offer carrying one Opus track each way.
//
//	browser ──Opus/RTP──▶ decode ──▶ frame queue ──▶ Source (20 ms, 48 kHz mono)
//	browser ◀──Opus/RTP── encode ◀── Sink
//
// A browser guest is a child node inside its host's process (design: issue 17);
// its calls are ordinary Parley calls between nodes, and this bridge is the
// guest node's microphone and loudspeaker. The browser never speaks to the
// other party directly.
//
// # Signalling
//
// Non-trickle: Answer takes the browser's complete offer (sent over the guest's
// WebSocket after its ICE gathering finished) and returns the complete answer
// once this side's gathering finished too, so one request and one reply carry
// everything. Candidates are host candidates on the interfaces the node uses;
// no STUN or TURN (the browser is on the host's LAN). Browsers hide their host
// addresses behind mDNS ".local" names; the ICE agent resolves them with mDNS
// queries (query-only mode: ours are not hidden), and when a name does not
// resolve the browser's checks to our host candidates still arrive, and their
// source becomes a peer-reflexive candidate that works just as well.
//
// # Bounds
//
// The offer is checked before pion sees it (CheckOffer: 64 KiB, exactly one
// audio m-line offering Opus, nothing else). Inbound packets are bounded in
// size, decoded as they arrive and queued as 20 ms frames in a ring of
// MaxQueue frames; a full ring drops its oldest frame, a ring that stays deeper
// than it needs to for a second drops one more (latency trimming), and every
// drop is counted (Stats). Source never blocks: with nothing queued it returns
// silence, so a call's audio loop keeps its pace whatever the browser does.
package webbridge
