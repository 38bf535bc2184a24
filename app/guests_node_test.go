package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"parley/node"
)

// nodeCore is a real node as the window's core; fake() only satisfies the
// harness (events come from the node, not the fake).
type nodeCore struct {
	*node.Node
	fc *fakeCore
}

func (c nodeCore) fake() *fakeCore { return c.fc }

// TestGuestAdmittedThroughTheWindow runs the window on a real node in "ask"
// mode: a browser's join (HostGuest) raises the prompt, Admit lets it in, and
// the guest's own node then shows in the roster with the badge, hosted here.
func TestGuestAdmittedThroughTheWindow(t *testing.T) {
	n, err := node.New(node.Config{DataDir: t.TempDir(), Name: "Host", Listen: "127.0.0.1:0",
		AudioIn: "null", AudioOut: "null", Guests: "ask", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.WebCertificate(); err != nil { // as main does with --web on
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	test.NewTempApp(t)
	h := newHarnessFor(t, nodeCore{n, newFakeCore()})

	type joined struct {
		g   *node.Guest
		err error
	}
	done := make(chan joined, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		g, err := n.HostGuest(ctx, node.GuestJoin{Seed: bytes.Repeat([]byte{7}, 32), Name: "Kim", From: "192.168.1.33"})
		done <- joined{g, err}
	}()
	var id string
	h.waitFor("the admission prompt", func() bool {
		for k := range h.u.guests.prompts {
			id = k
		}
		return id != "" && h.promptShown(id) != nil
	})
	if got := h.u.guests.prompts[id].text.Text; got != "Kim asks to join as a guest from 192.168.1.33." {
		t.Errorf("prompt says %q", got)
	}
	test.Tap(h.promptShown(id).admit)
	var j joined
	h.waitFor("HostGuest to return", func() bool {
		select {
		case j = <-done:
			return true
		default:
			return false
		}
	})
	if j.err != nil || j.g.ID() != id {
		t.Fatalf("HostGuest: %v (guest %v, prompt for %s)", j.err, j.g, id)
	}
	h.waitFor("the guest in the roster with its badge", func() bool {
		p, ok := h.u.peers[id]
		r := h.rosterRowByID(id)
		return ok && p.Guest && p.Via == n.ID().String() && r != nil && r.guest.Visible()
	})
	if h.promptShown(id) != nil {
		t.Error("the prompt stayed after Admit")
	}
	v := h.openInvite()
	if fp := n.Self().WebFingerprint; len(fp) != 95 || len(h.labelsContaining(fp)) != 1 {
		t.Errorf("the invite dialog does not show the web fingerprint %q", fp)
	}
	if r := v.rows[id]; r == nil || r.remove == nil {
		t.Fatalf("the admitted guest is not listed with Remove: %+v", v.guests)
	}
	test.Tap(v.rows[id].remove)
	h.waitFor("the guest gone from the invite dialog", func() bool { return v.rows[id] == nil })
}
