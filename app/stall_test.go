package app

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"parley/node"
)

// A core call that blocks for 2 s must not freeze the window: while a send is
// pending, typing into the filter still narrows the roster at once and core events
// still reach the screen.
func TestStalledCoreKeepsWindowResponsive(t *testing.T) {
	fc := fivePeers()
	fc.sendDelay = 2 * time.Second
	h := newHarness(t, fc)
	h.openPeer(bobID)
	c := h.u.conv

	start := time.Now()
	test.Type(c.composer, "are you there?")
	c.composer.TypedKey(enter())
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("Enter took %v with a stalled core", d)
	}
	if b := h.bubbleFor("are you there?"); b == nil || !strings.HasSuffix(b.b.meta, "sending…") {
		t.Fatalf("the message is not shown as sending at once: %+v", b)
	}
	h.waitFor("the core to be inside Send", func() bool {
		pending := 0
		h.fc.snapshot(func(f *fakeCore) { pending = f.pending })
		return pending == 1
	})

	// The UI goroutine is free: the filter works, events are applied.
	t0 := time.Now()
	test.Type(h.u.filter, "car")
	if got := h.rosterNames(); !slices.Equal(got, []string{"Carol"}) {
		t.Fatalf("filter while the send is pending shows %v", got)
	}
	h.emit(node.PresenceChanged{Peer: peer(carolID, "Carol", "busy", "")})
	if row := h.rosterRow("Carol"); row == nil || row.dot.FillColor != presenceColour("busy") {
		t.Fatal("a presence event was not applied while the send was pending")
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("the UI took %v to filter and apply an event", d)
	}
	pending := 0
	h.fc.snapshot(func(f *fakeCore) { pending = f.pending })
	if pending != 1 {
		t.Fatal("the send finished before the UI was exercised; the test proves nothing")
	}

	h.waitFor("the send to finish", func() bool {
		b := h.bubbleFor("are you there?")
		return b != nil && strings.HasSuffix(b.b.meta, "✓")
	})
	if d := time.Since(start); d < 2*time.Second {
		t.Fatalf("the send finished after %v, before the fake's delay", d)
	}
}

// The same for calls: while Call blocks for 2 s the bar already says
// "Calling…", the filter still works and events still reach the screen.
func TestStalledCallKeepsWindowResponsive(t *testing.T) {
	test.NewTempApp(t)
	cf := newCallFake(fivePeers())
	cf.callDelay = 2 * time.Second
	h := newHarnessFor(t, cf)
	h.openPeer(bobID)

	start := time.Now()
	test.Tap(h.tipButton("Call"))
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("tapping Call took %v with a stalled core", d)
	}
	if bar := h.u.callBar; !bar.obj.Visible() || bar.state.Text != "Calling…" || bar.who.Text != "Bob" {
		t.Fatalf("the call is not shown at once: visible=%v %q %q", bar.obj.Visible(), bar.who.Text, bar.state.Text)
	}
	h.waitFor("the core to be inside Call", func() bool { return cf.pending() == 1 })

	t0 := time.Now()
	test.Type(h.u.filter, "car")
	if got := h.rosterNames(); !slices.Equal(got, []string{"Carol"}) {
		t.Fatalf("filter while Call is pending shows %v", got)
	}
	h.emit(node.PresenceChanged{Peer: peer(carolID, "Carol", "busy", "")})
	if row := h.rosterRow("Carol"); row == nil || row.dot.FillColor != presenceColour("busy") {
		t.Fatal("a presence event was not applied while Call was pending")
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("the UI took %v to filter and apply an event", d)
	}
	if cf.pending() != 1 {
		t.Fatal("Call finished before the UI was exercised; the test proves nothing")
	}

	h.waitFor("Call to return", func() bool { return cf.pending() == 0 })
	if d := time.Since(start); d < 2*time.Second {
		t.Fatalf("Call returned after %v, before the fake's delay", d)
	}
	h.pump()
	if h.u.call == nil || h.u.call.id != "call-1" || h.u.callBar.state.Text != "Calling…" {
		t.Fatalf("after Call returned: %+v", h.u.call)
	}
}

// And for files: while SendFile blocks for 2 s (hashing a big file), the
// dropped file already shows as being prepared, the filter works and events
// reach the screen; when it returns, the core's offer replaces the card.
func TestStalledSendFileKeepsWindowResponsive(t *testing.T) {
	test.NewTempApp(t)
	ff := &fileFake{fakeCore: fivePeers(), sendDelay: 2 * time.Second}
	h := newHarnessFor(t, ff)
	h.openPeer(bobID)

	start := time.Now()
	h.u.dropped([]fyne.URI{storage.NewFileURI("/tmp/big.iso")})
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("dropping a file took %v with a stalled core", d)
	}
	var pending *transferCard
	for _, c := range h.u.strip.cards {
		pending = c
	}
	if pending == nil || pending.t.state != xferPreparing || pending.title.Text != "big.iso" {
		t.Fatalf("the file is not shown as being prepared at once: %+v", h.u.strip.cards)
	}
	h.waitFor("the core to be inside SendFile", func() bool { return ff.sending() == 1 })

	t0 := time.Now()
	test.Type(h.u.filter, "car")
	if got := h.rosterNames(); !slices.Equal(got, []string{"Carol"}) {
		t.Fatalf("filter while SendFile is pending shows %v", got)
	}
	h.emit(node.PresenceChanged{Peer: peer(carolID, "Carol", "busy", "")})
	if row := h.rosterRow("Carol"); row == nil || row.dot.FillColor != presenceColour("busy") {
		t.Fatal("a presence event was not applied while SendFile was pending")
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("the UI took %v to filter and apply an event", d)
	}
	if ff.sending() != 1 {
		t.Fatal("SendFile finished before the UI was exercised; the test proves nothing")
	}

	h.waitFor("the offer's card", func() bool { return h.u.strip.cards["file-1"] != nil })
	if d := time.Since(start); d < 2*time.Second {
		t.Fatalf("SendFile returned after %v, before the fake's delay", d)
	}
	if len(h.u.strip.cards) != 1 || h.card("file-1").t.state != xferOffered {
		t.Errorf("after SendFile: cards %v", keys(h.u.strip.cards))
	}
}
