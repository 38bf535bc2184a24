package overlay

import (
	"time"

	"parley/internal/wire"
)

// The urgent lane (issue 24): urgent messages, their acknowledgements and
// all-hands alerts (package urgent) go ahead of ordinary frames (chat, records)
// and bulk frames (file chunks) on every link, on relays too: a routed frame
// whose inner type is urgent takes the urgent lane of the next hop. The writer
// takes an urgent frame whenever one waits and flushes right after it, so it
// never waits behind a buffer of file chunks being filled.
//
// Priority is a resource a hostile peer would like to take, so it is bounded
// per link: at most urgentRate frames a second (bursts of urgentBurst) get the
// urgent lane; frames beyond that, or beyond the lane's bounds, travel on the
// ordinary lane instead (link_urgent_demoted), late but not lost. Honest urgent
// traffic is far below that: receivers take 6 urgent items a minute per sender
// (urgent/doc.go), and an alert crosses each link once.

const (
	// urgentQueueLen and urgentQueueBytes bound the urgent lane: urgent frames
	// are small (a sealed message of at most 4 KiB of text, an alert of at
	// most 1 KiB), so 64 of them fit in 256 KiB.
	urgentQueueLen   = 64
	urgentQueueBytes = 256 << 10
	// urgentRate and urgentBurst bound the frames a link lets overtake the
	// others: an alert storm of a 4,096-node overlay (every node raising one)
	// still crosses a link in about two minutes on the urgent lane, and a
	// peer abusing the type can delay other traffic by at most 32 small frames
	// a second.
	urgentRate  = 32
	urgentBurst = 64
)

// innerType is a frame's type, or a routed frame's inner type.
func innerType(typ uint8, payload []byte) uint8 {
	if typ == TypeRouted && len(payload) >= routedHeaderLen {
		typ = payload[routedHeaderLen-1]
	}
	return typ
}

// urgentFrame says whether a frame goes on the urgent lane: an urgent or alert
// frame, or a routed frame carrying one.
func urgentFrame(typ uint8, payload []byte) bool {
	typ = innerType(typ, payload)
	return typ == wire.FrameUrgent || typ == wire.FrameAlert
}

// sendUrgent queues a frame on the urgent lane; false means it did not get the
// lane (rate or bounds) and the caller queues it as an ordinary frame.
func (l *Link) sendUrgent(typ uint8, payload []byte) bool {
	if !l.urgentTokens.take(time.Now(), urgentRate, urgentBurst) {
		l.count("link_urgent_demoted")
		return false
	}
	n := int64(frameHeaderLen + len(payload))
	if !reserve(&l.urgentQueued, n, urgentQueueBytes) {
		l.count("link_urgent_demoted")
		return false
	}
	frame := AppendFrame(make([]byte, 0, n), typ, payload)
	select {
	case l.urgent <- frame:
		l.count("link_urgent_sent")
		return true
	default:
		l.urgentQueued.Add(-n)
		l.count("link_urgent_demoted")
		return false
	}
}

// count adds one to a counter of the overlay's set (none on a bare test link).
func (l *Link) count(name string) {
	if l.stats != nil {
		l.stats.Add(name, 1)
	}
}
