// Package urgent carries urgent messages and all-hands alerts (issue 24): what
// an emergency team sends when it must get through now, to a person who may be
// busy, on a network whose relays may be on battery or at their caps.
//
// # What it promises
//
//   - An urgent message goes to one peer, or to every member of a room (one
//     copy each), and is sent again until each recipient acknowledges it
//     explicitly or the sender cancels it: after 1, 2, 4, 8, 16 and then every
//     30 s while the recipient is reachable. Pending items survive a restart
//     (the node keeps them in its store). A recipient shows it until the user
//     acknowledges (Ack); the acknowledgement goes back to the sender, who
//     learns who acknowledged and when.
//   - An all-hands alert reaches every node of the overlay: it is flooded over
//     every link with its origin's signature, each node forwarding a new alert
//     once to every neighbour but the one it came from, so it crosses segments
//     through relays. In a closed team links exist only between members
//     (overlay/admit.go), so an alert reaches every member and nobody else.
//     A node passes the alerts of the last 10 minutes to every neighbour that
//     links up (LinkUp), so a node that joins or rejoins after a partition
//     hears them; the origin also floods it again every 15 s for 10 minutes
//     (a copy lost to a full queue); a node that has it drops the copy as a
//     duplicate.
//     Recipients see who raised it (the verified origin) and may acknowledge
//     it like a message.
//   - Urgent frames take the overlay's urgent lane on every link and every
//     relay (overlay/urgentlane.go): ahead of chat, records and file chunks.
//     Relays carry them whatever their power source, and the urgent lane has
//     its own queue, so a relay whose ordinary queues are full still forwards
//     them (relaying never depended on power; chat's relayed-frame budget does
//     not apply: these are not chat frames).
//
// # Bounds against abuse
//
//   - Each receiver takes at most 6 new urgent items (messages and alerts
//     together) a minute from one sender, in bursts of 6, and 60 a minute from
//     all senders together; the excess is dropped and counted
//     (urgent_drop_rate, urgent_drop_total_rate; alert_drop_rate,
//     alert_drop_total_rate for alerts), and an alert dropped so is not
//     forwarded. The per-sender buckets are bounded at 4,096 senders, idle
//     ones forgotten first (urgent_drop_senders when none is idle). A retry of an item already held does not count. The
//     sender refuses to raise more than 6 a minute itself (ErrRate), so an
//     honest user learns at once.
//   - Everything is signed by its author: messages, acknowledgements and
//     cancellations inside sealed envelopes (internal/courier, policy Live:
//     the sealed sender must be the routed source or link peer), alerts by the
//     origin's Ed25519ctx signature (identity.ContextAlert). Anything a blocked
//     peer signs is dropped (urgent_drop_blocked, alert_drop_blocked). A
//     blocked origin's alert is not shown but is still forwarded, within the
//     origin's rate: a node that is the only path between two segments must
//     not decide for everyone behind it, as relays forward routed frames of
//     peers they blocked.
//   - A receiver holds at most 256 unacknowledged items (the oldest goes,
//     urgent_drop_full), remembers at most 1,024 acknowledged ones (to answer a
//     sender's retry again) and 4,096 alerts with their frames (at most
//     4.5 MiB; 10 minutes; older alerts are
//     refused as stale, so a replay cannot come back after its ID is
//     forgotten). A sender keeps at most 64 outgoing items (ErrTooMany).
//
// # Wire formats
//
// Integers are big-endian. Frame type 33  urgent: a sealed envelope
// (internal/seal, version 2; the courier's SendSealed, no inner type byte),
// sent direct or routed, whose plaintext is one body:
//
//	off  len  field
//	0    1    version (1)
//	1    1    kind: 1 message, 2 acknowledgement, 3 cancellation
//	2    16   item ID (random, chosen by the item's sender)
//	18   8    time, unix ms: sent (message), acknowledged (2), cancelled (3)
//
// and, for a message only:
//
//	26   1    room ID length R (0–64; 0: a message to one peer)
//	27   R    room ID (the room it was said in)
//	..   2    text length T (1–4,096)
//	..   T    text, UTF-8
//
// Later bytes are ignored (room for later fields). An acknowledgement goes from
// the recipient of a message, or of an alert, to its sender or origin; a
// cancellation from a message's sender to its recipients.
//
// Frame type 34  alert: a plain frame on a link (TLS protects it hop by hop;
// the signature end to end):
//
//	off    len  field
//	0      1    hops left (1–16; not signed: each node forwards with one less,
//	            and a frame arriving with 1 is not forwarded)
//	1      1    version (1)
//	2      32   origin's Ed25519 public key
//	34     16   alert ID (random)
//	50     8    raised at, unix ms (refused if more than 10 minutes from now)
//	58     2    text length T (1–1,024)
//	60     T    text, UTF-8
//	60+T   64   Ed25519ctx signature (identity.ContextAlert) by the origin over
//	            bytes 1 to 60+T
//
// Nothing may follow the signature. Both decoders are fuzzed (codec_test.go).
package urgent
