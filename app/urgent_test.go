package app

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"parley/node"
)

// urgentFake is the sound fake with urgent items: it records
// "sendurgent|peer|text", "sayurgent|room|text", "callurgent|peer",
// "alert|text", "ack|id" and "cancel|id", and starts with pending.
type urgentFake struct {
	*soundFake
	umu     sync.Mutex
	uops    []string
	useq    int
	uerr    error // what the sending commands return, if set
	pending node.UrgentList
}

func (f *urgentFake) urec(op string) (string, error) {
	f.umu.Lock()
	defer f.umu.Unlock()
	if f.uerr != nil {
		return "", f.uerr
	}
	f.useq++
	f.uops = append(f.uops, op)
	return fmt.Sprintf("u-%d", f.useq), nil
}

func (f *urgentFake) SendUrgent(to, text string) (string, error) {
	return f.urec("sendurgent|" + to + "|" + text)
}
func (f *urgentFake) SayUrgent(room, text string) (string, error) {
	return f.urec("sayurgent|" + room + "|" + text)
}
func (f *urgentFake) CallUrgent(peers ...string) (string, error) {
	if _, err := f.urec("callurgent|" + strings.Join(peers, ",")); err != nil {
		return "", err
	}
	return f.Call(peers...)
}
func (f *urgentFake) Alert(text string) (string, error) { return f.urec("alert|" + text) }
func (f *urgentFake) Ack(id string) error               { _, err := f.urec("ack|" + id); return err }
func (f *urgentFake) CancelUrgent(id string) error      { _, err := f.urec("cancel|" + id); return err }
func (f *urgentFake) UrgentPending() node.UrgentList {
	f.umu.Lock()
	defer f.umu.Unlock()
	return f.pending
}

func (f *urgentFake) urgentOps() []string {
	f.umu.Lock()
	defer f.umu.Unlock()
	return slices.Clone(f.uops)
}

func urgentHarness(t *testing.T, setup func(*urgentFake)) (*harness, *urgentFake) {
	t.Helper()
	test.NewTempApp(t)
	uf := &urgentFake{soundFake: &soundFake{callFake: newCallFake(fivePeers()), off: map[string]bool{}}}
	if setup != nil {
		setup(uf)
	}
	return newHarnessFor(t, uf), uf
}

func (h *harness) waitUrgentOps(uf *urgentFake, want ...string) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("urgent calls %q", want), func() bool { return slices.Equal(uf.urgentOps(), want) })
}

// card is the band's card of an item, nil when it is not shown.
func (h *harness) alarmCard(id string) *alarmCard {
	c := h.u.alarms.cards[id]
	if c == nil || !h.u.alarms.box.Visible() {
		return nil
	}
	return c
}

// An urgent message sounds the alarm and puts a card up naming the sender
// and its fingerprint; the card outlives Escape and other events, and goes
// (with the alarm) once Acknowledge has told the core.
func TestUrgentCardStaysUntilAcknowledged(t *testing.T) {
	h, uf := urgentHarness(t, nil)
	sent := time.Now()
	h.emit(node.UrgentMessage{ID: "urg-1", From: aliceID, Name: "alice", Text: "pump 3 overheating", Sent: sent})
	c := h.alarmCard("urg-1")
	if c == nil {
		t.Fatal("no card for the urgent message")
	}
	if c.title.Text != "URGENT — alice" || c.text.Text != "pump 3 overheating" {
		t.Errorf("card %q / %q", c.title.Text, c.text.Text)
	}
	fp := strings.Join(strings.Fields(fingerprintOf(aliceID))[:2], " ")
	for _, want := range []string{"not verified", fp, "to you", sent.Format("15:04:05")} {
		if !strings.Contains(c.detail.Text, want) {
			t.Errorf("detail %q lacks %q", c.detail.Text, want)
		}
	}
	h.waitSounds(uf.soundFake, "play|alarm")

	// Nothing else takes it down.
	h.u.escape()
	h.emit(node.MessageReceived{ID: "m1", From: bobID, Text: "lunch?"})
	h.emit(node.Acknowledged{ID: "urg-1", By: bobID, At: time.Now()}) // someone else's ack of it
	if h.alarmCard("urg-1") == nil {
		t.Fatal("the card went without an acknowledgement")
	}
	test.Tap(c.ack)
	h.waitUrgentOps(uf, "ack|urg-1")
	h.waitFor("the card to go", func() bool { return h.alarmCard("urg-1") == nil })
	h.waitSounds(uf.soundFake, "play|alarm", "stop|alarm")
}

// Several stack; each Acknowledge tells the core its own item; a verified
// sender says so; an ack made on another skin takes a card down too.
func TestUrgentCardsStack(t *testing.T) {
	h, uf := urgentHarness(t, nil)
	h.u.peers[eveID] = func() node.PeerView { p := h.u.peers[eveID]; p.Verified = true; return p }()
	h.emit(node.UrgentMessage{ID: "a", From: aliceID, Text: "one", Sent: time.Now()})
	h.emit(node.AlertRaised{ID: "b", From: eveID, Name: "Eve", Text: "evacuate building B", Sent: time.Now()})
	h.emit(node.UrgentMessage{ID: "c", From: bobID, Room: "r1", Text: "three", Sent: time.Now()})
	for _, id := range []string{"a", "b", "c"} {
		if h.alarmCard(id) == nil {
			t.Fatalf("no card %s", id)
		}
	}
	if b := h.alarmCard("b"); b.title.Text != "ALERT TO EVERYONE — Eve" || !strings.Contains(b.detail.Text, "✓ verified") ||
		!strings.Contains(b.detail.Text, "everyone on the network") {
		t.Errorf("alert card %q / %q", b.title.Text, b.detail.Text)
	}
	test.Tap(h.alarmCard("b").ack)
	h.waitUrgentOps(uf, "ack|b")
	h.waitFor("b to go", func() bool { return h.alarmCard("b") == nil })
	if h.alarmCard("a") == nil || h.alarmCard("c") == nil {
		t.Fatal("acknowledging one took another down")
	}
	h.emit(node.Acknowledged{ID: "a", By: selfID, At: time.Now()}) // on another skin
	h.emit(node.UrgentCancelled{ID: "c", By: bobID})
	if h.alarmCard("a") != nil || h.alarmCard("c") != nil || h.u.alarms.box.Visible() {
		t.Fatal("cards stay after an ack elsewhere and a cancel")
	}
	h.waitSounds(uf.soundFake, "play|alarm", "stop|alarm")
}

// The alarm ignores presence and the other sounds' switches, and the window
// comes out of the tray.
func TestAlarmThroughBusyAndSilence(t *testing.T) {
	h, uf := urgentHarness(t, func(uf *urgentFake) {
		uf.off[node.SoundMessage], uf.off[node.SoundRing] = true, true
	})
	h.u.presence = "busy"
	h.u.hidden = true
	h.u.focused = false
	h.emit(node.AlertRaised{ID: "al", From: eveID, Name: "Eve", Text: "fire", Sent: time.Now()})
	h.waitSounds(uf.soundFake, "play|alarm")
	if h.u.hidden {
		t.Error("the window stayed in the tray")
	}
	if !slices.Contains(h.notes, "ALERT from Eve: fire") {
		t.Errorf("notifications %q", h.notes)
	}
	// The tray says so too, with the badged icon.
	if !slices.ContainsFunc(h.u.tray.menu.Items, func(m *fyne.MenuItem) bool { return m.Label == "⚠ 1 urgent to acknowledge" }) ||
		h.u.tray.shown != h.u.tray.icons.unread {
		t.Error("the tray does not show the waiting alert")
	}
	// While it waits, the alarm is asked for again (the node ends an
	// unstopped loop after 2 minutes).
	h.u.rearmAlarm()
	h.waitSounds(uf.soundFake, "play|alarm", "play|alarm")
}

// A restart keeps what is unacknowledged: UrgentPending at start puts the
// cards back, with the alarm, and the sender's cards with their acks.
func TestUrgentPendingRestored(t *testing.T) {
	at := time.Date(2026, 12, 7, 18, 30, 5, 0, time.Local)
	h, uf := urgentHarness(t, func(uf *urgentFake) {
		uf.pending = node.UrgentList{
			Incoming: []node.UrgentItem{{ID: "in-1", From: daveID, Name: "Dave", Text: "need help at gate 2", Sent: at}},
			Outgoing: []node.UrgentItem{{ID: "out-1", Text: "all units to gate 2", Sent: at, To: []string{aliceID, bobID},
				Acked: map[string]time.Time{aliceID: at.Add(time.Minute)}}},
		}
	})
	h.waitFor("the restored cards", func() bool { return h.alarmCard("in-1") != nil && h.alarmCard("out-1") != nil })
	h.waitSounds(uf.soundFake, "play|alarm")
	out := h.alarmCard("out-1")
	if out.title.Text != "Your urgent message to alice and Bob" {
		t.Errorf("title %q", out.title.Text)
	}
	if d := out.detail.Text; !strings.Contains(d, "acknowledged by alice at 18:31:05") || !strings.Contains(d, "waiting for Bob") {
		t.Errorf("detail %q", d)
	}
	if out.cancel == nil || out.cancel.Text != "Cancel" {
		t.Fatal("no Cancel on a waiting item")
	}
	test.Tap(out.cancel)
	h.waitUrgentOps(uf, "cancel|out-1")
	h.waitFor("the sent card to go", func() bool { return h.alarmCard("out-1") == nil })
}

// The composer's Urgent switch sends through SendUrgent (once: it goes off
// again); the acknowledgement shows on the sender's card; in a room
// Ctrl+Shift+Enter goes through SayUrgent.
func TestComposerSendsUrgent(t *testing.T) {
	h, uf := urgentHarness(t, nil)
	h.openPeer(aliceID)
	c := h.u.conv
	c.urgent.SetChecked(true)
	test.Type(c.composer, "pump 3 overheating")
	c.composer.TypedKey(enter())
	h.waitUrgentOps(uf, "sendurgent|"+aliceID+"|pump 3 overheating")
	if c.urgent.Checked {
		t.Error("the Urgent switch stayed on")
	}
	uf.snapshot(func(f *fakeCore) {
		if len(f.sent) != 0 {
			t.Errorf("also sent as chat: %q", f.sent)
		}
	})
	h.waitFor("the sent card", func() bool { return h.alarmCard("u-1") != nil })
	if d := h.alarmCard("u-1").detail.Text; !strings.Contains(d, "waiting for alice") {
		t.Errorf("detail %q", d)
	}
	at := time.Now()
	h.emit(node.Acknowledged{ID: "u-1", By: aliceID, Name: "alice", At: at})
	card := h.alarmCard("u-1")
	if d := card.detail.Text; !strings.Contains(d, "acknowledged by alice at "+at.Format("15:04:05")) || strings.Contains(d, "waiting") {
		t.Errorf("after the ack: %q", d)
	}
	if card.cancel.Text != "Dismiss" {
		t.Errorf("button %q once everyone acknowledged", card.cancel.Text)
	}
	// The next message is an ordinary one.
	test.Type(c.composer, "thanks")
	c.composer.TypedKey(enter())
	h.waitFor("the chat message", func() bool {
		n := 0
		uf.snapshot(func(f *fakeCore) { n = len(f.sent) })
		return n == 1
	})

	room := roomID("ops")
	h.emit(node.RoomUpdate{Room: node.Room{ID: room, Name: "ops", Joined: true, Members: []string{selfID, bobID, eveID}}})
	h.u.openRoom(room)
	test.Type(c.composer, "all units to gate 2")
	c.composer.TypedShortcut(&desktopShortcutCtrlShiftEnter)
	h.waitUrgentOps(uf, "sendurgent|"+aliceID+"|pump 3 overheating", "sayurgent|"+room+"|all units to gate 2")
	h.waitFor("the room's card", func() bool { return h.alarmCard("u-2") != nil })
	if got := h.alarmCard("u-2").title.Text; got != "Your urgent message to #ops" {
		t.Errorf("room card %q", got)
	}
}

// An ack of an item another skin sent brings that item's card up.
func TestAckOfItemSentElsewhere(t *testing.T) {
	h, uf := urgentHarness(t, nil)
	at := time.Now()
	uf.umu.Lock()
	uf.pending.Outgoing = []node.UrgentItem{{ID: "script-1", To: []string{bobID}, Text: "from a script", Sent: at,
		Acked: map[string]time.Time{bobID: at}}}
	uf.umu.Unlock()
	h.emit(node.Acknowledged{ID: "script-1", By: bobID, Name: "Bob", At: at})
	h.waitFor("the card", func() bool { return h.alarmCard("script-1") != nil })
	if d := h.alarmCard("script-1").detail.Text; !strings.Contains(d, "acknowledged by Bob") {
		t.Errorf("detail %q", d)
	}
}

// Alert everyone asks first, saying whom it alarms, then calls Alert.
func TestAlertEveryoneConfirms(t *testing.T) {
	h, uf := urgentHarness(t, nil)
	test.Tap(h.button("Alert everyone…"))
	if len(h.labelsContaining("everyone on this network")) == 0 {
		t.Fatal("the confirm does not say who is alarmed")
	}
	var entry *keyEntry
	h.everything(func(o fyne.CanvasObject) {
		if e, ok := o.(*keyEntry); ok && e.MultiLine {
			entry = e
		}
	})
	if entry == nil {
		t.Fatal("no text entry")
	}
	test.Type(entry, "evacuate building B")
	test.Tap(h.button("Alert everyone"))
	h.waitUrgentOps(uf, "alert|evacuate building B")
	h.waitFor("the sender's alert card", func() bool { return h.alarmCard("u-1") != nil })
	if d := h.alarmCard("u-1").detail.Text; !strings.Contains(d, "nobody has acknowledged yet") {
		t.Errorf("detail %q", d)
	}
	h.emit(node.Acknowledged{ID: "u-1", By: carolID, Name: "Carol", At: time.Now()})
	if d := h.alarmCard("u-1").detail.Text; !strings.Contains(d, "acknowledged by Carol") {
		t.Errorf("detail %q", d)
	}
}

// The seventh urgent item in a minute: the node's refusal in plain words.
func TestUrgentRateShownPlainly(t *testing.T) {
	h, uf := urgentHarness(t, nil)
	uf.uerr = node.ErrUrgentRate
	h.u.raiseAlert("again")
	h.waitFor("the error", func() bool {
		return len(h.labelsContaining("6 urgent messages or alerts in the last minute")) > 0
	})
}

// An urgent call rings with the alarm, whatever the presence, and says so;
// answering stops both. The header's Urgent call places one.
func TestUrgentCall(t *testing.T) {
	h, uf := urgentHarness(t, nil)
	h.u.presence = "busy"
	h.emit(node.CallIncoming{Call: "in-1", From: aliceID, Name: "alice", Urgent: true})
	if !strings.HasPrefix(h.u.ring.title.Text, "URGENT") {
		t.Errorf("ring card %q", h.u.ring.title.Text)
	}
	h.waitSounds(uf.soundFake, "play|ring", "play|alarm")
	test.Tap(h.button("Answer"))
	h.waitSounds(uf.soundFake, "play|ring", "play|alarm", "stop|ring", "stop|alarm")
	h.emit(node.CallState{Call: "in-1", Peer: aliceID, State: callEnded, Reason: "hangup"})

	h.openPeer(bobID)
	b := h.tipButton("Urgent call")
	if b == nil || b.Disabled() {
		t.Fatal("no Urgent call button")
	}
	test.Tap(b)
	h.waitUrgentOps(uf, "callurgent|"+bobID)
}

// TestUrgentScreenshot renders app/testdata/urgent.png (light): an alert and
// an urgent message waiting, and the sender's card of a room message one of
// two acknowledged (-update or PARLEY_SCREENSHOTS=1 writes it).
func TestUrgentScreenshot(t *testing.T) {
	write := *update || os.Getenv("PARLEY_SCREENSHOTS") == "1"
	test.NewTempApp(t)
	fc := demoCore()
	now := time.Now()
	room := roomID("site-team")
	uf := &urgentFake{soundFake: &soundFake{callFake: newCallFake(fc), off: map[string]bool{}},
		pending: node.UrgentList{Outgoing: []node.UrgentItem{{ID: "o1", Room: room, Text: "Gas smell near the north stairs — use the south exit.",
			Sent: now.Add(-3 * time.Minute), To: []string{aliceID, daveID}, Acked: map[string]time.Time{aliceID: now.Add(-2 * time.Minute)}}}}}
	for i := range fc.peers {
		if fc.peers[i].ID == aliceID {
			fc.peers[i].Verified = true
		}
	}
	h := newHarnessFor(t, uf)
	fyne.CurrentApp().Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantLight})
	h.openPeer(aliceID)
	h.emit(node.AlertRaised{ID: "al", From: daveID, Name: "Dave", Text: "Evacuate building B now. Meet at the car park.", Sent: now.Add(-40 * time.Second)})
	h.emit(node.UrgentMessage{ID: "um", From: aliceID, Name: "Alice", Room: room, Text: "Pump 3 is overheating — I need a second pair of hands at the plant room.", Sent: now.Add(-10 * time.Second)})
	h.waitFor("three cards", func() bool { return len(h.u.alarms.cards) == 3 })
	h.pump()
	h.win.Resize(fyne.NewSize(1000, 650))
	img := h.win.Canvas().Capture()
	if n := distinctColours(img); n < 50 {
		t.Errorf("urgent.png: only %d distinct colours — blank render?", n)
	}
	if !write {
		return
	}
	f, err := os.Create(filepath.Join("testdata", "urgent.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

var desktopShortcutCtrlShiftEnter = desktop.CustomShortcut{KeyName: fyne.KeyReturn,
	Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
