package overlay

import (
	"bufio"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/wire"
)

// readTypes reads n frames from r and returns their types (and, for routed
// frames, the inner type), in the order they arrived.
func readTypes(t *testing.T, r io.Reader, n int) []uint8 {
	t.Helper()
	br := bufio.NewReader(r)
	var out []uint8
	for range n {
		var h [frameHeaderLen]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			t.Fatalf("read header: %v", err)
		}
		size := int(h[2])<<24 | int(h[3])<<16 | int(h[4])<<8 | int(h[5])
		p := make([]byte, size)
		if _, err := io.ReadFull(br, p); err != nil {
			t.Fatalf("read payload: %v", err)
		}
		typ := h[1]
		if typ == TypeRouted {
			typ = p[routedHeaderLen-1]
		}
		out = append(out, typ)
	}
	return out
}

// TestUrgentOvertakesQueuedFrames queues file chunks and chat frames on a link
// whose writer has not run yet, then one urgent frame and one routed alert: both
// must be the first frames the peer reads, ahead of everything queued before
// them (issue 24: urgent traffic goes ahead of bulk data and ordinary chat on
// every link).
func TestUrgentOvertakesQueuedFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		near, far := net.Pipe()
		defer far.Close()
		l := newLink(near, identity.PeerID{1}, nil, true, time.Now())
		l.stats = &counters.Set{}
		defer l.Close()
		chunk := make([]byte, 64<<10)
		for range bulkQueueLen {
			if err := l.sendBulk(t.Context(), wire.FrameFileChunk, chunk, false); err != nil {
				t.Fatal(err)
			}
		}
		for range 20 {
			if err := l.send(wire.FrameChatSealed, []byte("ordinary chat")); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.send(wire.FrameUrgent, []byte("urgent")); err != nil {
			t.Fatal(err)
		}
		routed := appendRouted(nil, routedHeader{TTL: 3, Dst: identity.PeerID{2}, Src: identity.PeerID{3}, Type: wire.FrameAlert}, []byte("alert"))
		if err := l.send(TypeRouted, routed); err != nil {
			t.Fatal(err)
		}
		go l.writeLoop()
		got := readTypes(t, far, 2+20+bulkQueueLen)
		if got[0] != wire.FrameUrgent || got[1] != wire.FrameAlert {
			t.Fatalf("first frames read: %v; want the urgent frame and the routed alert first", got[:4])
		}
		for i, typ := range got[2:22] {
			if typ != wire.FrameChatSealed {
				t.Fatalf("frame %d is type %d, want chat (ordinary before bulk)", i+2, typ)
			}
		}
		if s := l.stats.Snapshot(); s["link_urgent_sent"] != 2 || s["link_urgent_demoted"] != 0 {
			t.Fatalf("counters %v", s)
		}
	})
}

// TestUrgentLaneRateBounded: a peer sending urgent types without end gets
// urgentBurst frames onto the urgent lane and the rest onto the ordinary lane
// (counted), so it cannot starve a link's other traffic; after a second the
// bucket has refilled.
func TestUrgentLaneRateBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		near, far := net.Pipe()
		defer far.Close()
		l := newLink(near, identity.PeerID{1}, nil, true, time.Now())
		l.stats = &counters.Set{}
		defer l.Close()
		for range urgentQueueLen + 10 {
			if err := l.send(wire.FrameUrgent, []byte("u")); err != nil {
				t.Fatal(err)
			}
		}
		s := l.stats.Snapshot()
		if s["link_urgent_sent"] != urgentBurst || s["link_urgent_demoted"] != 10 {
			t.Fatalf("counters %v; want %d urgent, 10 demoted", s, urgentBurst)
		}
		if len(l.urgent) != urgentBurst || len(l.queue) != 10 {
			t.Fatalf("lanes hold %d urgent, %d ordinary", len(l.urgent), len(l.queue))
		}
		var b tokenBucket
		now := time.Now()
		for range urgentBurst {
			b.take(now, urgentRate, urgentBurst)
		}
		if b.take(now, urgentRate, urgentBurst) {
			t.Fatal("an empty bucket gave a token")
		}
		if !b.take(now.Add(time.Second/urgentRate), urgentRate, urgentBurst) {
			t.Fatal("no token after 1/urgentRate s")
		}
	})
}
