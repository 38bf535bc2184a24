package overlay

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"parley/identity"
	"parley/internal/bufpool"
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

// TestBulkBuffersRecycled sends bulk frames from one reused buffer (as the file
// service does) while bob hands every other payload back to the pool and keeps
// the rest: pooled buffers travel through sendBulk, the writer and the reader,
// and no frame's bytes may change under a holder, kept or not.
func TestBulkBuffersRecycled(t *testing.T) {
	const bulkType = FirstBulkType + 2
	const n = 64
	got := make(chan []byte, n)
	b := startNodeWith(t, 2, "bob", func(o *Overlay) {
		o.Handle(bulkType, func(_ identity.PeerID, p []byte) {
			if !intact(p) {
				got <- nil
				return
			}
			if p[0]%2 == 0 {
				bufpool.Put(p) // the handler owns the payload: recycle it
				p = []byte{0}  // checked and gone
			}
			got <- p
		})
	})
	a := startNode(t, 1, "alice")
	dial(t, a, b)
	a.waitEvent("bob online", is(PeerOnline, b.id.ID))
	buf := make([]byte, 256<<10+36)
	for i := 0; i < n; i++ {
		for j := range buf {
			buf[j] = byte(i + j*(i+1))
		}
		buf[0], buf[len(buf)-1] = byte(i), byte(i)
		buf[1], buf[len(buf)-2] = byte(i*3), byte(i*3)
		if _, err := a.ov.SendBulk(context.Background(), b.id.ID, bulkType, buf); err != nil {
			t.Fatalf("SendBulk: %v", err)
		}
	}
	var kept [][]byte
	for i := 0; i < n; i++ {
		select {
		case p := <-got:
			if p == nil {
				t.Fatalf("frame %d arrived altered", i)
			}
			if len(p) > 1 {
				kept = append(kept, p)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d frames arrived", i, n)
		}
	}
	// The kept payloads are intact after the recycled buffers were reused for
	// the frames read after them.
	for _, p := range kept {
		if !intact(p) {
			t.Fatalf("kept frame %d changed", p[0])
		}
	}
	if len(kept) != n/2 {
		t.Fatalf("kept %d frames, want %d", len(kept), n/2)
	}
}

// intact checks a frame TestBulkBuffersRecycled sent: byte j of frame i is
// i + j*(i+1), bar the markers at both ends.
func intact(p []byte) bool {
	i := int(p[0])
	if len(p) != 256<<10+36 || p[len(p)-1] != byte(i) || p[1] != byte(i*3) || p[len(p)-2] != byte(i*3) {
		return false
	}
	for j := 2; j < len(p)-2; j++ {
		if p[j] != byte(i+j*(i+1)) {
			return false
		}
	}
	return true
}
