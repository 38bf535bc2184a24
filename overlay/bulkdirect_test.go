package overlay

import (
	"context"
	"errors"
	"testing"
	"time"

	"parley/identity"
)

// TestSendBulkDirectNeverRoutes: with a direct link the frame arrives on the
// bulk type's handler; without one it fails instead of being routed, so data
// sent in the clear never reaches a relay.
func TestSendBulkDirectNeverRoutes(t *testing.T) {
	const bulkType = FirstBulkType + 2
	got := make(chan []byte, 1)
	b := startNodeWith(t, 2, "bob", func(o *Overlay) {
		o.Handle(bulkType, func(_ identity.PeerID, p []byte) { got <- p })
	})
	a := startNode(t, 1, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.ov.SendBulkDirect(ctx, b.id.ID, bulkType, []byte("x")); !errors.Is(err, ErrNoLink) {
		t.Fatalf("without a link: %v, want ErrNoLink", err)
	}
	dial(t, a, b)
	a.waitEvent("bob online", is(PeerOnline, b.id.ID))
	if err := a.ov.SendBulkDirect(ctx, b.id.ID, FirstAppType, []byte("x")); err == nil {
		t.Fatal("an ordinary frame type was accepted")
	}
	if err := a.ov.SendBulkDirect(ctx, b.id.ID, bulkType, []byte("chunk")); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if string(p) != "chunk" {
			t.Fatalf("got %q", p)
		}
	case <-ctx.Done():
		t.Fatal("the bulk frame never arrived")
	}
}
