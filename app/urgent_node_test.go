package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"parley/node"
)

// urgentTestNode starts a node on loopback, without discovery and without sound.
func urgentTestNode(t *testing.T, name string) *node.Node {
	t.Helper()
	n, err := node.New(node.Config{DataDir: t.TempDir(), Name: name, Listen: "127.0.0.1:0",
		AudioIn: "null", AudioOut: "null", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}

// TestUrgentThroughRealNodes runs the window on a real node: another node's
// all-hands alert puts a card up, Acknowledge goes back to the alert's
// origin as an acknowledged event naming this node, and the card goes.
func TestUrgentThroughRealNodes(t *testing.T) {
	here := urgentTestNode(t, "Here")
	there := urgentTestNode(t, "There")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := there.AddPeer(ctx, fmt.Sprintf("127.0.0.1:%d", here.Self().Port)); err != nil {
		t.Fatal(err)
	}
	acks := make(chan node.Acknowledged, 4)
	go func() {
		for ev := range there.Events() {
			if a, ok := ev.(node.Acknowledged); ok {
				acks <- a
			}
		}
	}()
	test.NewTempApp(t)
	h := newHarnessFor(t, nodeCore{here, newFakeCore()})
	h.waitFor("There in the roster", func() bool { return h.u.peers[there.Self().ID].Online })

	id, err := there.Alert("evacuate building B")
	if err != nil {
		t.Fatal(err)
	}
	h.waitFor("the alert's card", func() bool { return h.alarmCard(id) != nil })
	c := h.alarmCard(id)
	if c.title.Text != "ALERT TO EVERYONE — There" || c.text.Text != "evacuate building B" {
		t.Errorf("card %q / %q", c.title.Text, c.text.Text)
	}
	test.Tap(c.ack)
	h.waitFor("the card to go", func() bool { return h.alarmCard(id) == nil })
	select {
	case a := <-acks:
		if a.ID != id || a.By != here.Self().ID {
			t.Errorf("acknowledged %+v, want %s by %s", a, id, here.Self().ID)
		}
	case <-ctx.Done():
		t.Fatal("the origin never got the acknowledgement")
	}
	if got := here.UrgentPending().Incoming; len(got) != 0 {
		t.Errorf("still pending here: %+v", got)
	}
}
