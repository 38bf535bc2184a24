package overlay

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
)

// slowConn delays every write by delay (read at each write): a peer that answers
// late.
type slowConn struct {
	net.Conn
	delay *atomic.Int64 // nanoseconds
}

func (c slowConn) Write(p []byte) (int, error) {
	if d := c.delay.Load(); d > 0 {
		time.Sleep(time.Duration(d))
	}
	return c.Conn.Write(p)
}

// slowListener wraps the conns a memListener accepts in slowConn.
type slowListener struct {
	net.Listener
	delay *atomic.Int64
}

func (l slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return slowConn{c, l.delay}, nil
}

// startSlowMemNode is startMemNode for a node whose writes on every link each
// take delay (set at any time; 0 at first); inbox gets its routed frames.
func startSlowMemNode(t *testing.T, n *memNet, seed byte, name string, delay *atomic.Int64, inbox chan routedMsg) *testNode {
	t.Helper()
	node := startNodeCfg(t, seed, name, nil, func(ov *Overlay) {
		n.attach(ov)
		ov.ln = slowListener{ov.ln, delay}
		dialMem := ov.dialConn
		ov.dialConn = func(ctx context.Context, ap netip.AddrPort) (net.Conn, error) {
			c, err := dialMem(ctx, ap)
			if err != nil {
				return nil, err
			}
			return slowConn{c, delay}, nil
		}
		routedInbox(inbox)(ov)
	})
	node.mem = n
	return node
}

// Routed frames toward a node that restarted reach it, without looping, while
// it answers slowly. The segment b0, b1, b2 (a triangle) is reached from s,
// linked to b1 and b2 only; b0 restarts (goodbye, then the same identity again),
// links to b1 and b2, and once those links' records have flooded it answers
// 20 ms late, as a process just started does while it loads its store and
// checks the records its new links sync (the race build in itest TestUrgent).
//
// Before the fix a node weighed its own links by the RTT it measured just now
// but every other link by the RTTs its two ends last published. b1 and b2 each
// measured about 25 ms to b0 within a few pings, while their records (issued at
// the link change) said 1 µs: each saw the other's link to b0 as the cheap one
// and its own as dear, so b1 sent b0's frames to b2 and b2 sent them back
// (route_drop_loop) until a record refresh a minute later: 50 of 300 frames
// through, 249 loop drops, a 24.9 s gap to the end of the test. In itest
// TestUrgent the acknowledgements toward the restarted b0 looped for over 15 s.
func TestRoutesToRestartedNodeDoNotLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		inB0 := make(chan routedMsg, 1024)
		var delay atomic.Int64
		defer func() {
			// Let the writes under way end before the cleanups stop the nodes.
			delay.Store(0)
			time.Sleep(time.Second)
		}()
		s := startMemNode(t, n, 1, "s", nil)
		b1 := startMemNode(t, n, 2, "b1", nil)
		b2 := startMemNode(t, n, 3, "b2", nil)
		b0 := startSlowMemNode(t, n, 4, "b0", &delay, inB0)
		linkBoth(t, s, b1)
		linkBoth(t, s, b2)
		linkBoth(t, b1, b2)
		linkBoth(t, b0, b1)
		linkBoth(t, b0, b2)
		waitUntil(t, "s to route to b0", func() bool { _, ok := s.ov.NextHop(b0.id.ID); return ok })
		if _, err := s.ov.SendTo(b0.id.ID, FirstAppType, []byte("before")); err != nil {
			t.Fatal(err)
		}
		recvRouted(t, inB0, "b0 to get a routed frame before its restart")

		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		b0.ov.Shutdown(ctx)
		b0.halt()
		waitUntil(t, "s to see b0 leave", func() bool { return !s.ov.Online(b0.id.ID) })

		b0 = startSlowMemNode(t, n, 4, "b0 again", &delay, inB0)
		linkBoth(t, b0, b1)
		linkBoth(t, b0, b2)
		synctest.Wait() // the records of the new links have flooded
		// From now on b0 answers late, as a process just started does under load.
		delay.Store(int64(20 * time.Millisecond))

		// One frame every 100 ms for 30 s, as a retrying sender would.
		const sent = 300
		var got int
		var gap, last time.Duration
		start := time.Now()
		for range sent {
			s.ov.SendTo(b0.id.ID, FirstAppType, []byte("after"))
			time.Sleep(100 * time.Millisecond)
			for len(inB0) > 0 {
				<-inB0
				got++
				now := time.Since(start)
				gap, last = max(gap, now-last), now
			}
		}
		gap = max(gap, time.Since(start)-last)
		var loops uint64
		for _, n := range []*testNode{s, b1, b2} {
			loops += n.ov.Stats()["route_drop_loop"]
		}
		t.Logf("b0 got %d of %d frames sent after its restart, longest gap %v; route_drop_loop %d", got, sent, gap, loops)
		if loops != 0 || got < sent-10 || gap > 2*time.Second {
			t.Errorf("frames toward the restarted b0 looped: want none, at least %d of %d delivered and no gap above 2 s", sent-10, sent)
			for _, n := range []*testNode{s, b1, b2} {
				t.Log(routeView(n, b0.id.ID))
			}
		}
	})
}

// routeView says how n sees its way to dst: the RTT it measures on its own link
// to dst, the RTTs its record and dst's publish, and its path.
func routeView(n *testNode, dst identity.PeerID) string {
	own := "no link"
	if l := n.ov.Link(dst); l != nil {
		own = l.Quality().SRTT.String()
	}
	published := func(r *Record) (out []string) {
		if r != nil {
			for _, nb := range r.Neighbours {
				out = append(out, nb.ID.Short()+" "+nb.RTT.String())
			}
		}
		return out
	}
	return fmt.Sprintf("%s: own RTT to %s %s; publishes %v; %s publishes %v; path %v",
		n.name, dst.Short(), own, published(n.ov.SelfRecord()), dst.Short(), published(n.ov.RecordOf(dst)), n.ov.Path(dst))
}
