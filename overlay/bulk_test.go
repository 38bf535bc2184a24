package overlay

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"parley/identity"
)

// TestBulkYieldsToOrdinaryFrames fills alice's bulk lane toward a bob whose
// reader is stalled, then sends one ordinary frame: it must overtake every bulk
// frame still queued, and SendBulk must report the full lane as back-pressure.
func TestBulkYieldsToOrdinaryFrames(t *testing.T) {
	const bulkType = FirstBulkType + 1
	release := make(chan struct{})
	var mu sync.Mutex
	var order []string // "b" per bulk frame, "c" for the chat frame, as bob reads them
	got := make(chan struct{}, 1024)
	b := startNodeWith(t, 2, "bob", func(o *Overlay) {
		o.Handle(bulkType, func(identity.PeerID, []byte) {
			<-release // the first bulk frame stalls bob's reader
			mu.Lock()
			order = append(order, "b")
			mu.Unlock()
			got <- struct{}{}
		})
		o.Handle(FirstAppType, func(identity.PeerID, []byte) {
			mu.Lock()
			order = append(order, "c")
			mu.Unlock()
			got <- struct{}{}
		})
	})
	a := startNode(t, 1, "alice")
	dial(t, a, b)
	a.waitEvent("bob online", is(PeerOnline, b.id.ID))

	chunk := make([]byte, 256<<10)
	sent := 0
	for ; ; sent++ {
		if sent > 4096 {
			t.Fatal("the bulk lane never pushed back")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, err := a.ov.SendBulk(ctx, b.id.ID, bulkType, chunk)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("SendBulk: %v", err)
		}
	}
	if _, err := a.ov.SendTo(b.id.ID, FirstAppType, []byte("hello")); err != nil {
		t.Fatalf("SendTo: %v", err)
	}
	close(release)
	for i := 0; i < sent+1; i++ {
		<-got
	}
	mu.Lock()
	defer mu.Unlock()
	before := 0
	for _, o := range order {
		if o == "c" {
			break
		}
		before++
	}
	// When the chat frame was queued the bulk lane held bulkQueueLen frames the
	// writer had not taken; all of them must come after it.
	if before > sent-bulkQueueLen {
		t.Fatalf("chat frame read after %d of %d bulk frames; want at most %d before it", before, sent, sent-bulkQueueLen)
	}
	if _, err := a.ov.SendBulk(context.Background(), b.id.ID, FirstAppType, nil); err == nil {
		t.Fatal("SendBulk accepted an ordinary frame type")
	}
}
