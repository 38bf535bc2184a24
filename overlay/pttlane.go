package overlay

import (
	"time"

	"parley/internal/wire"
)

// Push-to-talk frames (package talkgroup) ride the urgent lane: a speaker's
// voice must not wait behind file chunks or a burst of chat, and the writer
// flushes right after each one. They get only part of it, so urgent messages
// and alerts keep their place: a PTT frame takes the lane while it holds
// less than half its frames and bytes, and within pttRate frames a second
// per link. A PTT frame that finds no room is dropped (link_ptt_dropped),
// not demoted: voice arriving behind a queue of chat is too late to play,
// and the jitter buffer conceals one lost frame better than a late one.

const (
	// pttRate and pttBurst: one transmission is 50 frames a second; a link
	// carries at most one per talkgroup it forwards for, so 200 a second is
	// four talkgroups speaking at once through one link.
	pttRate  = 200
	pttBurst = 200
)

// pttFrame says whether a frame is a PTT frame, direct or routed.
func pttFrame(typ uint8, payload []byte) bool {
	return innerType(typ, payload) == wire.FramePTT
}

// sendPTT queues a PTT frame on the urgent lane or drops it.
func (l *Link) sendPTT(typ uint8, payload []byte) error {
	n := int64(frameHeaderLen + len(payload))
	if len(l.urgent) >= urgentQueueLen/2 || !l.pttTokens.take(time.Now(), pttRate, pttBurst) {
		l.count("link_ptt_dropped")
		return ErrQueueFull
	}
	if !reserve(&l.urgentQueued, n, urgentQueueBytes/2) {
		l.count("link_ptt_dropped")
		return ErrQueueFull
	}
	frame := AppendFrame(make([]byte, 0, n), typ, payload)
	select {
	case l.urgent <- frame:
		return nil
	default:
		l.urgentQueued.Add(-int64(n))
		l.count("link_ptt_dropped")
		return ErrQueueFull
	}
}
