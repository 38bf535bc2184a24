// Package chat carries text messages between peers with delivery acknowledgements.
//
// This is the walking skeleton of Parley's chat: 1:1 messages over a direct link,
// stored durably on both sides, acknowledged by the receiver only after its copy is
// committed, and deduplicated by message ID so a retransmission is shown once.
//
// # Wire format (overlay application frames, integers big-endian)
//
//	type 16  message  [id bytes8][sent at, unix ms u64][text bytes16]
//	type 17  ack      [id bytes8]
//
// Message IDs are 26 characters of Crockford base32 over 48 bits of millisecond time
// and 80 random bits, so they sort by creation time. Text is UTF-8, at most MaxText
// bytes; longer messages are refused before sending, and a frame that fails to decode
// is dropped and counted without affecting the link.
package chat
