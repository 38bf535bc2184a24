// Package call runs Parley's voice calls: WebRTC (pion/webrtc v3) peer
// connections carrying one Opus track each way, set up by signalling messages
// that travel over the overlay, sealed end to end by the node (internal/seal:
// signed by the caller's identity key and encrypted to the callee, so relays
// of the signalling can neither read nor forge it).
//
// # Call life
//
//	caller                          callee
//	Invite(offer, relay?)  ───────▶ call_incoming, rings (RingTimeout)
//	                       ◀─────── Ringing
//	Candidate…             ◀──────▶ Candidate…  (trickle ICE, both ways)
//	                       ◀─────── Accept(answer) | Decline | Busy
//	media flows (SRTP over the selected ICE pair: host, or relayed by TURN)
//	Hangup                 ◀──────▶ Hangup; Cancel before an answer
//
// A call ends on hang-up, decline, busy, cancel, ring timeout, the far end
// vanishing (its overlay presence or ICE connectivity lost) or ICE failing.
//
// # Relaying
//
// When the callee has no direct overlay link (another segment), the caller
// asks the best voice relay (chosen by the node with the selection package)
// for per-call TURN credentials, and hands them to the callee in the Invite,
// so both sides allocate on the same relay: one allocation on the address
// each side reaches it on. The relay's peer ID travels with them, so
// call_stats can name it.
//
// A relay grants credentials only for one call leg the asker is a party of:
// the RelayAsk names the leg's two parties (participant tags), the asker one
// of them, the relay neither; anything else is refused and counted
// (call_relay_refused_not_participant). The credential names the leg (holder
// "asker.peer"), so the relay's per-credential cap (media/relay: 2 allocations
// per address) bounds what one leg holds. An asker holds grants in one call
// at a time: asking for a new call revokes its grants in the old one. When a
// leg that used a relay closes, each party sends the relay a Hangup naming
// the leg (participants: asker, peer), and the relay revokes that credential
// and ends its allocations (call_relay_released). What a relay cannot check
// is that the call is real: a peer may invent one with a second key of its
// own; the caps bound what that costs. Tests: TestRelayGrantsOnlyToLegParties,
// TestBlockedDirectPathFallsBackToRelay, itest TestHostileRelay and
// TestRelayRevokedAtHangup.
//
// # Losing a relay or the mixer
//
// A call outlives the relay or mixer it depends on (issue 24). A relayed
// leg whose relay leaves the overlay, or whose path stops answering ICE
// consent checks, is offered again by its offerer through the next-ranked
// relay, the lost one left out (or direct, if no relay grants): an Invite
// for the same call with reason "restart" and the new relay's fields,
// which the answerer takes as a replacement of its leg
// (relayfailover.go). When the mixer of a mixed call leaves, the remaining
// participants take turns in peer ID order to replace it, and the new
// mixer sends every participant an Invite with reason "mixer_moved", its
// own ID as mixer (tag 9) and the participant list (tag 8)
// (mixerfailover.go). A node that has left the call answers such an
// invite with a Hangup instead of ringing. Both moves keep the call's ID
// and state and are reported as a StateChanged with reason
// ReasonRelayMoved or ReasonMixerMoved. No new tag: the reason (tag 3)
// says which. Tests: TestRelayLost, TestMixerLost, itest TestFailover.
//
// # Signalling message format, version 1
//
// All integers are big-endian.
//
//	offset  size  field
//	0       1     version, 0x01
//	1       1     kind (KindInvite … KindRelayGrant, see Kind)
//	2       16    call ID (random, chosen by the caller)
//	18      …     fields, each [tag u8][len u16][len bytes], any order
//
// Tags: 1 SDP (UTF-8), 2 ICE candidate (JSON of RTCIceCandidateInit),
// 3 reason (UTF-8), 4 relay peer ID (16 bytes), 5 relay TURN URL (UTF-8,
// repeatable), 6 relay username, 7 relay password, 8 participant peer ID
// (16 bytes, repeatable; group calls), 9 mixer peer ID (16 bytes; a group
// call mixed by one participant), 10 urgent (one byte, 1; an invite to an
// urgent call, which rings a callee already in a call instead of being
// answered busy, and which, answered, ends the callee's other calls; on a relay ask, the relay may
// exceed its session cap for it, media/relay/urgent.go), 11 DTMF digits
// (ASCII, 1–32 of 0-9 * # A-D; a KindDTMF message, dtmf.go), 12 hold (one
// byte: 1 held, 2 resumed; a KindHold message, hold.go), 13 mixer-ranked peer
// ID (16 bytes, repeatable, at most MaxParticipants: a mixed call's caller's
// ranking of the participants for mixing, best first, in its ring invite; the
// order in which they replace a lost mixer, mixerfailover.go; ignored unless
// every entry is a participant, named once). Unknown tags are skipped, so a later
// version can add fields; a known tag with a bad length makes the message
// malformed. A message is at most MaxMessage bytes.
//
// On the overlay a message travels as frame type 32 (TypeCall): a seal envelope
// (internal/seal) whose plaintext is the message, sent over a direct link or routed.
package call
