package overlay

import (
	"fmt"
	"testing"
	"time"

	"parley/identity"
	"parley/internal/testwait"
)

// TestLinkReadsKernelSegmentCounters checks that a real TLS-over-TCP link reports
// the kernel's segment counters, and that they count what the link sends.
func TestLinkReadsKernelSegmentCounters(t *testing.T) {
	a := startNode(t, 1, "alice")
	b := startNode(t, 2, "bob")
	dial(t, a, b)
	a.waitEvent("link up to bob", is(LinkUp, b.id.ID))
	la := a.ov.Link(b.id.ID)
	if la == nil {
		t.Fatal("no link")
	}
	before := la.Quality()
	if !before.Transport {
		t.Fatal("a TCP link on Linux reports no transport counters")
	}
	// One frame at a time, each delivered before the next is sent, so the kernel
	// cannot coalesce them: at least one segment each.
	got := make(chan struct{}, 1)
	b.ov.Handle(FirstAppType, func(identity.PeerID, []byte) { got <- struct{}{} })
	for i := range 20 {
		if err := a.ov.Send(b.id.ID, FirstAppType, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
		case <-time.After(waitLimit):
			t.Fatalf("frame %d not delivered", i)
		}
	}
	// The kernel's counters over a real socket: waited on, not synctest (a
	// socket is not durably blocking).
	var q Quality
	testwait.Until(t, waitLimit, 10*time.Millisecond, fmt.Sprintf("the segment counter to count 20 frames sent (from %d)", before.SegsSent), func() bool {
		q = la.Quality()
		return q.SegsSent >= before.SegsSent+20
	})
	if q.SegsRetrans > q.SegsSent {
		t.Fatalf("%d retransmissions of %d segments", q.SegsRetrans, q.SegsSent)
	}
	t.Logf("segments sent %d → %d, retransmitted %d", before.SegsSent, q.SegsSent, q.SegsRetrans)
}
