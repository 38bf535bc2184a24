package app

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"parley/node"
)

// stallGate holds a stalled core until the test lets it go. The window must not
// wait for the core, so every UI action returns while the gate is shut; a
// watchdog opens it after stallWatchdog, so a window that does wait fails the
// test (forced) instead of hanging it. No wall-clock bound is asserted: on a
// machine at load 100 a tap may take a second, and that is not a stall.
type stallGate struct {
	ch     chan struct{}
	once   sync.Once
	forced atomic.Bool
}

// stallWatchdog is far longer than any UI action takes on a loaded machine and
// far shorter than go test's timeout.
const stallWatchdog = 20 * time.Second

func newStallGate(t *testing.T) *stallGate {
	g := &stallGate{ch: make(chan struct{})}
	timer := time.AfterFunc(stallWatchdog, func() { g.forced.Store(true); g.open() })
	t.Cleanup(func() { timer.Stop(); g.open() })
	return g
}

func (g *stallGate) open() { g.once.Do(func() { close(g.ch) }) }

// returned fails the test if what had to wait for the watchdog to open the gate.
func (g *stallGate) returned(t *testing.T, what string) {
	t.Helper()
	if g.forced.Load() {
		t.Fatalf("%s waited for the stalled core", what)
	}
}

// A core call that blocks must not freeze the window: while a send is pending,
// typing into the filter still narrows the roster and core events still reach
// the screen.
func TestStalledCoreKeepsWindowResponsive(t *testing.T) {
	fc := fivePeers()
	gate := newStallGate(t)
	fc.sendGate = gate.ch
	h := newHarness(t, fc)
	h.openPeer(bobID)
	c := h.u.conv

	test.Type(c.composer, "are you there?")
	c.composer.TypedKey(enter())
	gate.returned(t, "Enter")
	if b := h.bubbleFor("are you there?"); b == nil || !strings.HasSuffix(b.b.meta, "sending…") {
		t.Fatalf("the message is not shown as sending at once: %+v", b)
	}
	h.waitFor("the core to be inside Send", func() bool {
		pending := 0
		h.fc.snapshot(func(f *fakeCore) { pending = f.pending })
		return pending == 1
	})

	// The UI goroutine is free: the filter works, events are applied.
	test.Type(h.u.filter, "car")
	if got := h.rosterNames(); !slices.Equal(got, []string{"Carol"}) {
		t.Fatalf("filter while the send is pending shows %v", got)
	}
	h.emit(node.PresenceChanged{Peer: peer(carolID, "Carol", "busy", "")})
	if row := h.rosterRow("Carol"); row == nil || row.dot.FillColor != presenceColour("busy") {
		t.Fatal("a presence event was not applied while the send was pending")
	}
	gate.returned(t, "filtering and applying an event")
	pending := 0
	h.fc.snapshot(func(f *fakeCore) { pending = f.pending })
	if pending != 1 {
		t.Fatal("the send finished before the UI was exercised; the test proves nothing")
	}

	gate.open()
	h.waitFor("the send to finish", func() bool {
		b := h.bubbleFor("are you there?")
		return b != nil && strings.HasSuffix(b.b.meta, "✓")
	})
}

// The same for calls: while Call blocks the bar already says
// "Calling…", the filter still works and events still reach the screen.
func TestStalledCallKeepsWindowResponsive(t *testing.T) {
	test.NewTempApp(t)
	cf := newCallFake(fivePeers())
	gate := newStallGate(t)
	cf.gate = gate.ch
	h := newHarnessFor(t, cf)
	h.openPeer(bobID)

	test.Tap(h.tipButton("Call"))
	gate.returned(t, "tapping Call")
	if bar := h.u.callBar; !bar.obj.Visible() || bar.state.Text != "Calling…" || bar.who.Text != "Bob" {
		t.Fatalf("the call is not shown at once: visible=%v %q %q", bar.obj.Visible(), bar.who.Text, bar.state.Text)
	}
	h.waitFor("the core to be inside Call", func() bool { return cf.pending() == 1 })

	test.Type(h.u.filter, "car")
	if got := h.rosterNames(); !slices.Equal(got, []string{"Carol"}) {
		t.Fatalf("filter while Call is pending shows %v", got)
	}
	h.emit(node.PresenceChanged{Peer: peer(carolID, "Carol", "busy", "")})
	if row := h.rosterRow("Carol"); row == nil || row.dot.FillColor != presenceColour("busy") {
		t.Fatal("a presence event was not applied while Call was pending")
	}
	gate.returned(t, "filtering and applying an event")
	if cf.pending() != 1 {
		t.Fatal("Call finished before the UI was exercised; the test proves nothing")
	}

	gate.open()
	h.waitFor("Call to return", func() bool { return cf.pending() == 0 })
	h.pump()
	if h.u.call == nil || h.u.call.id != "call-1" || h.u.callBar.state.Text != "Calling…" {
		t.Fatalf("after Call returned: %+v", h.u.call)
	}
}

// And for files: while SendFile blocks (hashing a big file), the
// dropped file already shows as being prepared, the filter works and events
// reach the screen; when it returns, the core's offer replaces the card.
func TestStalledSendFileKeepsWindowResponsive(t *testing.T) {
	test.NewTempApp(t)
	gate := newStallGate(t)
	ff := &fileFake{fakeCore: fivePeers(), sendGate: gate.ch}
	h := newHarnessFor(t, ff)
	h.openPeer(bobID)

	h.u.dropped([]fyne.URI{storage.NewFileURI("/tmp/big.iso")})
	gate.returned(t, "dropping a file")
	var pending *transferCard
	for _, c := range h.u.strip.cards {
		pending = c
	}
	if pending == nil || pending.t.state != xferPreparing || pending.title.Text != "big.iso" {
		t.Fatalf("the file is not shown as being prepared at once: %+v", h.u.strip.cards)
	}
	h.waitFor("the core to be inside SendFile", func() bool { return ff.sending() == 1 })

	test.Type(h.u.filter, "car")
	if got := h.rosterNames(); !slices.Equal(got, []string{"Carol"}) {
		t.Fatalf("filter while SendFile is pending shows %v", got)
	}
	h.emit(node.PresenceChanged{Peer: peer(carolID, "Carol", "busy", "")})
	if row := h.rosterRow("Carol"); row == nil || row.dot.FillColor != presenceColour("busy") {
		t.Fatal("a presence event was not applied while SendFile was pending")
	}
	gate.returned(t, "filtering and applying an event")
	if ff.sending() != 1 {
		t.Fatal("SendFile finished before the UI was exercised; the test proves nothing")
	}

	gate.open()
	h.waitFor("the offer's card", func() bool { return h.u.strip.cards["file-1"] != nil })
	if len(h.u.strip.cards) != 1 || h.card("file-1").t.state != xferOffered {
		t.Errorf("after SendFile: cards %v", keys(h.u.strip.cards))
	}
}
