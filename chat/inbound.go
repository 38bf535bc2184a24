package chat

import (
	"slices"

	"parley/identity"
)

// Inbound queues: decoded frames wait here for the committer, one queue per
// author (the sealed sender, or the link's peer for a plain direct frame).
//
// A queue exists only while it holds something: it is made on the first frame
// and freed when the committer empties it, so an author costs memory only while
// its frames wait, never for having been seen once. (Before, every sealed
// sender got a preallocated 1,024-slot channel of ~160 KiB that was never freed:
// a neighbour sealing each frame with a fresh key grew the node without bound;
// TestInboundQueuesFreed and itest TestHostileChatThrowawayKeys re-measure it.)
//
// What waits is bounded in items per author, in bytes per author, in authors and
// in bytes in total. A frame its sender passed over its own link (a plain
// direct frame, a sealed one whose sender is the link's peer, or a custodian's
// hand-over on the custodian's own link) waits for room when its author's share
// is full: that stalls only that link (TCP backpressure). Everything else
// (routed frames, frames sealed by someone other than the link's peer) never
// blocks the link it came on: it is dropped, unacknowledged, and counted
// (chat_drop_queue_full), and its sender's outbox sends it again. Such frames may fill only half of the
// total, so a relay's flood can never make an author's own link wait.
const (
	// perPeerQueue is the most frames one author may have waiting: a full
	// custody hand-over (500) plus an outbox flush, with room to spare.
	perPeerQueue = 1024
	// perPeerBytes bounds one author's waiting bytes: 128 maximal (32 KiB)
	// messages, a few seconds of typing even for a script.
	perPeerBytes = 4 << 20
	// maxQueues bounds how many authors may have frames waiting at once; the
	// committer serves them round-robin one frame each, so with this many the
	// honest author's frame is in the very next batch.
	maxQueues = 1024
	// maxInboundBytes bounds everything waiting for the committer (the RSS bound
	// of itest TestHostileChatThrowawayKeys is 64 MB for the whole node).
	maxInboundBytes = 24 << 20
	// frameOverhead is what an item costs besides its text and IDs (the struct,
	// the slice slot, the strings' headers): a round figure above the ~200
	// bytes it measures, so that a flood of empty frames is bounded too.
	frameOverhead = 256
)

type queueKey = identity.PeerID

// peerQueue is one author's waiting frames, oldest first.
type peerQueue struct {
	items []inbound
	bytes int
}

// size is what an inbound item is charged against the bounds.
func (it *inbound) size() int {
	n := frameOverhead + len(it.body.Text) + len(it.body.Room) + len(it.body.ID)
	for _, id := range it.ids {
		n += 16 + len(id)
	}
	return n
}

// enqueueInbound hands a decoded frame to the committer; block says its author
// sent it over its own link, so it may wait for room (see above).
func (s *Service) enqueueInbound(it inbound, block bool) {
	size := it.size()
	for {
		s.mu.Lock()
		ok, full := s.admit(it, size, block)
		space, ctx := s.space, s.ctx
		s.mu.Unlock()
		if ok {
			s.poke()
			return
		}
		if !block {
			s.cfg.Stats.Add(full, 1)
			return
		}
		s.cfg.Stats.Add("chat_backpressure", 1)
		select {
		case <-space:
		case <-ctx.Done():
			return
		}
	}
}

// admit queues it if the bounds allow; otherwise full names the counter of the
// bound that refused it. Called with mu held.
func (s *Service) admit(it inbound, size int, block bool) (ok bool, full string) {
	total := maxInboundBytes
	if !block {
		total /= 2
	}
	q := s.queues[it.from]
	switch {
	case q == nil && len(s.queues) >= maxQueues:
		return false, "chat_drop_queues_full"
	case s.inboundBytes+size > total && s.inboundBytes > 0:
		return false, "chat_drop_queue_full"
	case q != nil && (len(q.items) >= perPeerQueue || q.bytes+size > perPeerBytes):
		return false, "chat_drop_queue_full"
	}
	if q == nil {
		q = &peerQueue{}
		s.queues[it.from] = q
		s.order = append(s.order, it.from)
	}
	it.bytes = size
	q.items = append(q.items, it)
	q.bytes += size
	s.inboundBytes += size
	return true, ""
}

// takeInbound takes up to limit frames (and about maxBytes) for one commit,
// round-robin one frame per author, continuing where the last batch stopped: an
// author with one frame waiting is served in the next batch however many others
// flood. Emptied queues are freed, and whoever waits for room is woken.
func (s *Service) takeInbound(limit, maxBytes int) []inbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []inbound
	bytes := 0
	for len(s.order) > 0 && len(out) < limit && bytes < maxBytes {
		if s.next >= len(s.order) {
			s.next = 0
		}
		key := s.order[s.next]
		q := s.queues[key]
		it := q.items[0]
		q.items[0] = inbound{}
		q.items = q.items[1:]
		q.bytes -= it.bytes
		s.inboundBytes -= it.bytes
		bytes += it.bytes
		out = append(out, it)
		if len(q.items) == 0 {
			delete(s.queues, key)
			s.order = slices.Delete(s.order, s.next, s.next+1)
		} else {
			s.next++
		}
	}
	if len(out) > 0 {
		close(s.space)
		s.space = make(chan struct{})
	}
	return out
}

// pending says whether anything waits for the committer.
func (s *Service) pending() bool {
	if len(s.local) > 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order) > 0
}
