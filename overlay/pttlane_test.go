package overlay

import (
	"net"
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/wire"
)

// TestPTTOvertakesChatButLeavesUrgentRoom: PTT frames queued behind chat and
// file chunks are read first; they take at most half the urgent lane, so an
// urgent frame still gets on it when PTT frames flood; the rest are dropped
// and counted.
func TestPTTOvertakesChatButLeavesUrgentRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		near, far := net.Pipe()
		defer far.Close()
		l := newLink(near, identity.PeerID{1}, nil, true, time.Now())
		l.stats = &counters.Set{}
		defer l.Close()
		for range 20 {
			if err := l.send(wire.FrameChatSealed, []byte("ordinary chat")); err != nil {
				t.Fatal(err)
			}
		}
		routed := appendRouted(nil, routedHeader{TTL: 3, Dst: identity.PeerID{2}, Src: identity.PeerID{3}, Type: wire.FramePTT}, []byte("voice"))
		sent := 0
		for range urgentQueueLen {
			if l.send(TypeRouted, routed) == nil {
				sent++
			}
		}
		if sent != urgentQueueLen/2 {
			t.Fatalf("%d PTT frames queued, want half the lane (%d)", sent, urgentQueueLen/2)
		}
		if got := l.stats.Get("link_ptt_dropped"); got != urgentQueueLen/2 {
			t.Fatalf("link_ptt_dropped %d", got)
		}
		if err := l.send(wire.FrameUrgent, []byte("urgent")); err != nil || l.stats.Get("link_urgent_sent") != 1 {
			t.Fatalf("urgent frame after a PTT flood: %v, %v", err, l.stats.Snapshot())
		}
		go l.writeLoop()
		got := readTypes(t, far, 20+sent+1)
		for i, typ := range got[:sent] {
			if typ != wire.FramePTT {
				t.Fatalf("frame %d is type %d, want PTT first", i, typ)
			}
		}
		if got[sent] != wire.FrameUrgent || got[sent+1] != wire.FrameChatSealed {
			t.Fatalf("after PTT: %v", got[sent:sent+2])
		}
	})
}
