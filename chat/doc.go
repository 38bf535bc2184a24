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
//     duplicates by message ID, so every message is shown exactly once.
//   - Order within a conversation follows hybrid logical clocks, which survive skew
//     between machines' clocks.
//   - Over a direct link the TLS link authenticates the sender. Anything routed
//     through other peers is sealed (package internal/seal): signed by the sender and
//     encrypted to the recipient, so relays can neither read nor forge it.
//   - Incoming messages wait in bounded per-peer queues that the committer serves
//     round-robin: a flooding peer fills only its own queue (and then stalls on TCP
//     backpressure), so others keep their share.
//   - Routed frames never block the relay's link they arrive on: each (relay, author)
//     pair has a token bucket (200 frames/s, bursts of 1,000), spent before the
//     envelope is opened, and an author whose queue is full loses the frame. Both
//     drops are counted (chat_drop_rate, chat_drop_queue_full) and cost nothing
//     acknowledged: the sender's outbox sends again. A custodian's copy of a handed
//     over message is released only after the recipient's commit.
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
