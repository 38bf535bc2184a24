// Package jitter is the receiving side's adaptive jitter buffer for Opus over RTP.
//
// Packets cross the network with varying delay, out of order, twice, or not at all,
// and the playout loop wants one 20 ms frame every 20 ms. The buffer sits between
// them: Push takes packets as they arrive, Pop (called once per frame by the playout
// loop) says what to play next:
//
//   - Normal: the packet for this frame arrived; decode it.
//   - FEC: it was lost but the next packet is here; decode that packet's in-band FEC.
//   - Conceal: it was lost (or is not here in time) with nothing to rebuild it from;
//     let the decoder conceal. Also used to stretch playout by one frame.
//   - Silence: nothing to play: before the first packet is due, in a DTX gap (the
//     sender stops sending during silence; the gap shows as RTP timestamps that jump
//     while sequence numbers stay contiguous), or once concealment has run out.
//
// # Timing model
//
// The buffer has no clock of its own: packets carry their arrival time and Pop takes
// the current time, so tests drive it with a virtual clock. For each packet the
// transit offset d = arrival − timestamp/48 kHz is computed; the smallest d over
// the last 10 s is the fastest path seen, and a packet's excess over it is its queuing
// delay. The frame with timestamp T is due at T/48 kHz + min d + target, where the
// target delay follows the largest recent excess (plus the RFC 3550 interarrival
// jitter as a margin), clamped to [MinDelay, MaxDelay]. It grows at once when a packet
// arrives with more delay than the target, or arrives after its frame was played
// (late), and decays only after two quiet seconds, with a 5 s time constant: a spike
// costs a little extra latency for a while, never a string of late packets. When
// packets keep arriving late for 100 ms with none on time between them, the path
// itself got slower by more than MaxDelay (a slower relay, a sender left behind real
// time): the buffer then starts a new timeline on that path rather than playing
// silence until the old fastest transit leaves its 10 s window. A stall's burst of
// late packets arrives in far less than 100 ms and only raises the target.
//
// Pop compares the frame it is about to play with the one that is due. More than
// half a frame early, it plays one extra frame (concealment, or silence in a gap) and
// does not advance; more than one and a half frames late, it drops one frame (at most
// one every 100 ms while speech plays; at once in a silence gap). Beyond MaxDelay
// either way it resynchronises. Sender and receiver clocks that drift apart are
// absorbed the same way.
//
// # Sequence numbers and limits
//
// Sequence numbers and timestamps are unwrapped to 64 bits against the newest packet,
// so wrap-around is invisible. A jump of more than 3000 sequence numbers or 60 s of
// timestamps, or a packet delayed by more than max(1 s, 4·MaxDelay) beyond the
// fastest path (a sender that paused its timestamps, say), starts a new timeline:
// the buffer is emptied and playout restarts after the target delay. The buffer holds
// at most MaxPackets packets spanning at most MaxSpan; beyond that the oldest are
// dropped. All state is fixed-size apart from those packets, whose payloads are kept
// as given (not copied).
//
// A Buffer is not safe for concurrent use; the caller serialises Push and Pop.
package jitter
