// Package talkgroup is push-to-talk in a room (issue 24): one member speaks,
// every member online hears it, one speaker at a time.
//
// # Voice path
//
// The speaker's node encodes its audio source once (media/voice's Sender,
// Opus 48 kHz mono, 20 ms frames, DTX) and signs each frame with its identity
// key. Frames travel over overlay links as frame type 35, on the link's
// urgent lane (overlay/pttlane.go): ahead of chat and file chunks, at most
// half the lane and 200 frames a second per link, dropped (not demoted) when
// there is no room. No WebRTC: a transmission is one-way and the overlay's
// links are already up.
//
// Fan-out is a tree (tree.go), not a mesh: the speaker orders the room's
// online members best forwarder first (selection's ptt purpose: path RTT from
// the speaker, spare bandwidth, CPU, power) and sends each frame to the first
// FanOut (8); member i forwards it to members 8(i+1)…8(i+1)+7. Forwarders
// learn the ordered list from a tree frame the speaker sends them when the
// transmission starts and once a second after (a member that joined or came
// online meanwhile is then in the tree: a late joiner hears the rest of the
// transmission). Forwarders pass the frame's bytes on unchanged; they do not
// decode. With 50 listeners the speaker sends 8 copies of each frame and 6
// forwarders 8 each; MaxTree (255) members are three hops deep.
//
// # Trust
//
// Every frame is signed by its speaker (Ed25519ctx, context "parley ptt v1";
// for a request or cancel, by the member asking). A receiver first takes at
// most 200 PTT frames a second from each neighbour (viaRate: the overlay's
// per-link PTT rate; ptt_drop_via_rate), so junk costs a bounded number of
// signature checks. Then, before playing or forwarding: the room is one it
// joined, the signer is a member online whose key it knows, the signature
// verifies, and the signer is within 60 frames a second (burst 100, every
// kind counted). So a forwarder cannot forge or alter speech,
// a non-member cannot inject any, and a member flooding frames costs each
// forwarder one signature check per frame within that rate. Cost: one
// verification (~50 µs) per frame per hop, 2.5 ms of CPU a second per
// listener. Frames are signed, not encrypted: the forwarders (members
// themselves) and any overlay relay on a routed hop can hear them. Sealing
// each frame per hop would cost an AEAD per copy; per-group keys are the
// way to add secrecy later.
//
// Drops are counted (node stats): ptt_drop_via_rate, ptt_drop_malformed,
// _self, _room, _unknown, _sig, _member, _rate, _dup (a frame reaching a
// node twice while a tree changes), _floor (a frame of a transmission that does not hold the
// floor), _queue, _rooms; ptt_not_played (a second room's speech while one
// plays), ptt_send_failed, link_ptt_dropped (overlay).
//
// # Floor control
//
// One transmission at a time per room; every member keeps the floor's state
// from the frames it sees, and every decision is a function of the frames'
// contents, so members agree without a coordinator:
//
//   - A transmission is named by its claim (speaker, start time in the
//     speaker's clock). Pressing with the floor free (and nobody queued ahead)
//     takes it at once. Two members pressing within one path delay of each
//     other both start; every member, each speaker included, keeps the claim
//     that started earlier (lower peer ID on a tie) and drops the other's
//     frames; the losing speaker stops ("preempted"), gets ptt_busy and is
//     queued. TestTalkgroupSimultaneousPress, TestFloorRaceIsDeterministic.
//   - Pressing while the floor is held gives ptt_busy and a place in the
//     room's queue: a request frame to every member, ordered by the time
//     asked (then peer ID), repeated every second while waiting (members that
//     joined since learn it). When the floor frees, the head of the queue
//     starts at once while its key is down; the others wait. A head that does
//     not start within GrantWait (2 s: gone, or key released with the cancel
//     lost) is dropped from the queue. Releasing while queued sends a cancel.
//   - The floor frees when the speaker lets go (an end frame down the tree),
//     when no frame of the transmission arrived for Silence (1 s: the speaker
//     crashed or lost its link) or after MaxTalk (60 s: the speaker stops
//     itself; members refuse its frames after MaxTalk+Silence).
//
// Clocks need not agree: a skewed clock only changes who wins a race or who
// is first in the queue, the same at every member.
//
// # Replay
//
// Every member keeps the last transmission of each room it heard (at most
// 60 s and 1 MiB of Opus); ptt_replay plays it to the local sink. Live speech
// stops a replay. One sink per node: transmissions play one at a time.
//
// # Wire format
//
// Frame type 35  ptt (internal/wire/registry.go), big-endian:
//
//	offset  size  field
//	0       1     kind: 1 audio, 2 end, 3 request, 4 cancel, 5 tree
//	1       1     room length R, 1–64
//	2       R     room ID (UTF-8)
//	2+R     16    speaker (or requester) peer ID
//	18+R    8     tx: the transmission's start, unix ms (request/cancel:
//	              when the floor was asked for)
//	26+R    4     seq: audio frame number in the transmission from 0; 0
//	              for other kinds
//	30+R    …     body:
//	                audio:   the Opus packet, 1–1000 bytes (libopus makes at
//	                         most 1275 for 120 ms; 20 ms speech is < 200)
//	                tree:    count N (1 byte, ≤ 255), then N peer IDs of 16
//	                         bytes: the ordered member list, each at most
//	                         once and never the speaker
//	                others:  empty
//	end-64  64    Ed25519ctx signature ("parley ptt v1") by the speaker's
//	              identity key over every byte before it
//
// An audio frame of 60-byte Opus in room of 32 characters is 186 bytes:
// 74 kbit/s per copy at 50 frames a second. Decode rejects a wrong length for
// the kind, an unknown kind and a room outside 1–64 bytes; FuzzDecode checks
// that what decodes re-encodes to the same bytes.
package talkgroup
