// Package chat carries Parley's text conversations: 1:1 chats and rooms, with
// delivery and read receipts, durable history, an outbox for absent peers and
// end-to-end sealing for anything that does not travel over a direct link.
//
// # Guarantees
//
//   - A message is stored (in one batched bbolt commit) before it is sent and before
//     the user is told it was sent; the receiver acknowledges only after its own
//     commit. Unacknowledged messages stay in the outbox and are retransmitted when the
//     peer is reachable again, across restarts of either side; the receiver drops
//     duplicates by (author, message ID), so every message is shown exactly once,
//     and nobody who learns a message's ID (a custodian, a room member) can make
//     the real one look like a duplicate by sending its own under that ID first.
//   - Order within a conversation follows hybrid logical clocks, which survive skew
//     between machines' clocks.
//   - Over a direct link the TLS link authenticates the sender. Anything routed
//     through other peers is sealed (package internal/seal): signed by the sender and
//     encrypted to the recipient, so relays can neither read nor forge it.
//   - Incoming messages wait in per-author queues that exist only while they hold
//     something, bounded in frames and bytes per author, in authors and in bytes in
//     total (inbound.go); the committer serves them round-robin one frame each. A
//     flooding peer fills only its own queue (and then stalls on TCP backpressure),
//     so others keep their share.
//   - The sealed sender is who a frame is from; a routed source is a routing hint.
//     Blocking, budgets and authorisation use the sealed sender. Sending and
//     opening go through package internal/courier, whose documentation states the
//     one policy of chat, files and calls; chat declares it Relayed (a sealed
//     sender other than the routed source is counted, chat_source_mismatch, and
//     accepted) and plugs its budgets in as the courier's Admit hook. Frames from a
//     blocked author are dropped however they arrive (its link, sealed over another
//     link, routed under a forged source, handed over by a custodian:
//     chat_drop_blocked); a sealed sender this node has no record or roster entry
//     of may send nothing (chat_drop_unknown_sender), checked before the envelope
//     is opened.
//   - Sealed frames never block the link they arrive on unless it is their
//     author's own: each link may have 1,000 envelopes a second opened (2,000 at
//     once), each (link, sealed sender) pair 200 a second (bursts of 1,000), the
//     whole node 500 a second of frames not from their author's own link (bursts of
//     4,000), and an author whose queue is full loses the frame. The drops are
//     counted (chat_drop_rate, chat_drop_relayed_rate, chat_drop_queue_full,
//     chat_drop_queues_full) and cost nothing acknowledged: the sender's outbox
//     sends again. A custodian's copy of a handed over message is released only
//     after the recipient's commit.
//   - Rooms are open: anyone who knows a room's name or ID can join, and members
//     are whoever's record lists the room. A room message waits in the outbox for
//     each member for at most RoomOutboxTTL (a week, chat_outbox_expired), so
//     Sybil members cannot keep entries for ever.
//
// # Wire format (overlay application frames, integers big-endian)
//
//	type 16  message  [kind u8: 1 direct, 2 room][room ID bytes8, empty for direct]
//	                  [message ID bytes8][HLC u64][sent at, unix ms u64][text bytes16]
//	type 17  ack      [count u16] then count × [message ID bytes8]: committed by the receiver
//	type 18  sealed   a seal envelope whose plaintext is [inner type u8][inner frame body],
//	                  inner type 16, 17 or 19; used for every routed frame
//	type 19  read     [count u16] then count × [message ID bytes8]: read by the receiver
//	types 20–23       custody: a neighbour holds a sealed message for an absent
//	                  recipient (custody.go documents them)
//
// Message IDs are 26 characters of Crockford base32 over 48 bits of millisecond time
// and 80 random bits. Text is UTF-8, at most MaxText bytes; longer messages are
// refused before sending. A frame that fails to decode is dropped and counted; the
// link stays.
//
// Rooms are announced in peer records (overlay extension type 1, see rooms.go): the
// members of a room are the peers whose newest record lists it.
package chat
