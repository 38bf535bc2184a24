package app

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"parley/node"
)

var (
	aliceID = mkID("alice")
	bobID   = mkID("bob")
	carolID = mkID("carol")
	daveID  = mkID("dave")
	eveID   = mkID("eve")
)

func fivePeers() *fakeCore {
	return newFakeCore(
		peer(bobID, "Bob", "away", "at lunch"),
		peer(aliceID, "alice", "available", ""),
		peer(carolID, "Carol", "offline", ""),
		peer(daveID, "Dave", "busy", "in a meeting"),
		peer(eveID, "Eve", "available", "on call"),
	)
}

func TestRosterSortsOnlineFirstThenPresenceThenName(t *testing.T) {
	h := newHarness(t, fivePeers())
	want := []string{"alice", "Eve", "Bob", "Dave", "Carol"}
	if got := h.rosterNames(); !slices.Equal(got, want) {
		t.Fatalf("roster order %v, want %v", got, want)
	}
	row := h.rosterRow("Bob")
	if row == nil {
		t.Fatal("no row for Bob")
	}
	if row.subtitle.Text != "Away — at lunch" {
		t.Errorf("Bob's status line %q", row.subtitle.Text)
	}
	if row.dot.FillColor != presenceColour("away") {
		t.Errorf("Bob's dot is %v, want amber", row.dot.FillColor)
	}
	if c := h.rosterRow("Carol"); c == nil || c.dot.FillColor != presenceColour("offline") || c.subtitle.Text != "Offline" {
		t.Errorf("Carol's row: %+v", c)
	}
}

func TestRosterFilter(t *testing.T) {
	h := newHarness(t, fivePeers())
	test.Type(h.u.filter, "CAR")
	if got := h.rosterNames(); !slices.Equal(got, []string{"Carol"}) {
		t.Fatalf("filter CAR shows %v", got)
	}
	h.u.filter.SetText("meeting") // status text matches too
	if got := h.rosterNames(); !slices.Equal(got, []string{"Dave"}) {
		t.Fatalf("filter meeting shows %v", got)
	}
	h.u.filter.SetText("")
	if len(h.rosterNames()) != 5 {
		t.Fatalf("cleared filter shows %v", h.rosterNames())
	}
}

func TestCtrlKFocusesFilter(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.openPeer(bobID)
	h.win.Canvas().Focus(h.u.conv.composer)
	// The focused composer passes the window shortcut on.
	h.u.conv.composer.TypedShortcut(ctrl("K"))
	if h.win.Canvas().Focused() != h.u.filter {
		t.Fatalf("Ctrl+K focused %v, want the filter", h.win.Canvas().Focused())
	}
}

func TestUnreadBadgeForConversationNotOpen(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.openPeer(aliceID)
	h.emit(node.MessageReceived{ID: "m1", From: bobID, Text: "psst", Sent: time.Now()})
	h.emit(node.MessageReceived{ID: "m2", From: bobID, Text: "psst again", Sent: time.Now()})
	row := h.rosterRow("Bob")
	if row == nil || !row.badge.Visible() || row.badgeText.Text != "2" {
		t.Fatalf("Bob's badge: visible %v text %q", row != nil && row.badge.Visible(), row.badgeText.Text)
	}
	if a := h.rosterRow("alice"); a.badge.Visible() {
		t.Error("the open conversation has a badge")
	}
	if h.u.tray.unread.Label != "2 unread messages" {
		t.Errorf("tray says %q", h.u.tray.unread.Label)
	}
	if h.win.Title() != "(2) Parley" {
		t.Errorf("window title %q", h.win.Title())
	}
	// Opening Bob's conversation clears the badge and marks it read in the core.
	h.openPeer(bobID)
	if row := h.rosterRow("Bob"); row.badge.Visible() {
		t.Error("badge still shown after opening the conversation")
	}
	h.waitFor("mark read", func() bool {
		var marked []string
		h.fc.snapshot(func(f *fakeCore) { marked = slices.Clone(f.marked) })
		return slices.Contains(marked, bobID+"||")
	})
}

func TestPresenceEventChangesDotAndOrder(t *testing.T) {
	h := newHarness(t, fivePeers())
	p := peer(bobID, "Bob", "busy", "deadline")
	h.emit(node.PresenceChanged{Peer: p})
	row := h.rosterRow("Bob")
	if row.dot.FillColor != presenceColour("busy") {
		t.Fatalf("Bob's dot is %v after going busy", row.dot.FillColor)
	}
	if row.subtitle.Text != "Busy — deadline" {
		t.Errorf("status line %q", row.subtitle.Text)
	}
	if got := h.rosterNames(); !slices.Equal(got, []string{"alice", "Eve", "Bob", "Dave", "Carol"}) {
		t.Errorf("order after Bob went busy: %v", got)
	}
	h.emit(node.PeerDown{Peer: p, Reason: "lost"})
	if row := h.rosterRow("Bob"); row.dot.FillColor != presenceColour("offline") {
		t.Errorf("Bob's dot after peer_down: %v", row.dot.FillColor)
	}
	if got := h.rosterNames(); got[len(got)-1] != "Carol" || got[len(got)-2] != "Bob" {
		t.Errorf("order after Bob left: %v", got)
	}
	h.emit(node.PeerUp{Peer: peer(carolID, "Carol", "available", "")})
	if got := h.rosterNames(); got[0] != "alice" || got[1] != "Carol" {
		t.Errorf("order after Carol came: %v", got)
	}
}

func TestNotificationWhenNotFocused(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.openPeer(bobID)
	h.u.setFocused(false)
	h.emit(node.MessageReceived{ID: "m1", From: bobID, Text: "are you there?", Sent: time.Now()})
	if len(h.notes) != 1 || h.notes[0] != "Bob: are you there?" {
		t.Fatalf("notifications %q", h.notes)
	}
	if h.u.unread[node.ConvOf(bobID, "")] != 1 {
		t.Error("a message in the open conversation of an unfocused window is not counted unread")
	}
	h.u.setFocused(true)
	if h.u.unread[node.ConvOf(bobID, "")] != 0 {
		t.Error("focusing the window does not mark the open conversation read")
	}
	h.emit(node.MessageReceived{ID: "m2", From: bobID, Text: "ok", Sent: time.Now()})
	if len(h.notes) != 1 {
		t.Errorf("notified while focused: %q", h.notes)
	}
}

func TestCtrl1AndCtrl2SwitchTabs(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.openPeer(bobID)
	// From the composer (which passes window shortcuts on) to the rooms list.
	h.u.conv.composer.TypedShortcut(ctrl("2"))
	if h.u.tabs.SelectedIndex() != tabRooms || h.win.Canvas().Focused() != h.u.roomsV.list {
		t.Fatalf("Ctrl+2: tab %d, focus %v; want Rooms with its list focused", h.u.tabs.SelectedIndex(), h.win.Canvas().Focused())
	}
	h.u.filter.TypedShortcut(ctrl("1"))
	if h.u.tabs.SelectedIndex() != tabPeople || h.win.Canvas().Focused() != h.u.roster.list {
		t.Fatalf("Ctrl+1: tab %d, focus %v; want People with its list focused", h.u.tabs.SelectedIndex(), h.win.Canvas().Focused())
	}
	// The focused list picks with the keyboard: Down, then Space.
	h.u.roster.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	h.u.roster.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	h.waitFor("the second peer's conversation", func() bool { return h.u.conv.peer == h.u.roster.rows[1].ID })
}

func TestEnterInFilterOpensFirstMatch(t *testing.T) {
	h := newHarness(t, fivePeers())
	test.Type(h.u.filter, "car")
	h.u.filter.TypedKey(enter())
	h.waitFor("Carol's conversation", func() bool { return h.u.conv.peer == carolID && !h.u.conv.loading })
	if h.win.Canvas().Focused() != h.u.conv.composer {
		t.Errorf("after Enter the focus is on %v, want the composer", h.win.Canvas().Focused())
	}
	// Enter again with the conversation already open still hands over the focus.
	h.win.Canvas().Focus(h.u.filter)
	h.u.filter.TypedKey(enter())
	if h.win.Canvas().Focused() != h.u.conv.composer {
		t.Errorf("second Enter left the focus on %v", h.win.Canvas().Focused())
	}
}

// A filter that matches only in the other tab says so, leads there, and
// Enter opens the match there.
func TestFilterMatchesInOtherTab(t *testing.T) {
	fc := fivePeers()
	design := roomID("design")
	fc.rooms[design] = node.Room{ID: design, Name: "design", Members: []string{selfID}, Joined: true}
	h := newHarness(t, fc)
	if h.u.roster.hint.box.Visible() || h.u.roomsV.hint.box.Visible() {
		t.Fatal("a hint over lists that have entries")
	}
	test.Type(h.u.filter, "desi")
	hint := h.u.roster.hint
	if !hint.box.Visible() || hint.text.Text != "No matches in People" || !hint.jump.Visible() ||
		hint.jump.Text != "1 match in Rooms (Ctrl+2)" {
		t.Fatalf("roster hint shown %v: %q, button %v %q", hint.box.Visible(), hint.text.Text, hint.jump.Visible(), hint.jump.Text)
	}
	test.Tap(hint.jump)
	if h.u.tabs.SelectedIndex() != tabRooms {
		t.Fatal("the hint's button did not show the Rooms tab")
	}
	h.u.selectTab(tabPeople)
	h.win.Canvas().Focus(h.u.filter)
	h.u.filter.TypedKey(enter())
	h.waitFor("the room", func() bool { return h.u.conv.room == design })
	if h.u.tabs.SelectedIndex() != tabRooms {
		t.Error("Enter opened the room without showing the Rooms tab")
	}

	// And the other way round: a person's name on the Rooms tab.
	h.u.filter.SetText("eve")
	if rh := h.u.roomsV.hint; !rh.box.Visible() || rh.jump.Text != "1 match in People (Ctrl+1)" {
		t.Errorf("rooms hint %q, button %q", rh.text.Text, rh.jump.Text)
	}
	h.u.filter.SetText("nobody here")
	for name, hint := range map[string]*listHint{"roster": h.u.roster.hint, "rooms": h.u.roomsV.hint} {
		if !hint.box.Visible() || hint.text.Text != "No matches" || hint.jump.Visible() {
			t.Errorf("%s with no match anywhere: %q, button shown %v", name, hint.text.Text, hint.jump.Visible())
		}
	}
	h.u.filter.TypedKey(enter()) // nothing to open: nothing happens
	if h.u.conv.room != design {
		t.Error("Enter with no match changed the conversation")
	}
}

func TestEmptyRosterAndRoomsSayWhatToDo(t *testing.T) {
	h := newHarness(t, newFakeCore())
	if hint := h.u.roster.hint; !hint.box.Visible() || !strings.HasPrefix(hint.text.Text, "No one found yet") ||
		!strings.Contains(hint.text.Text, "Add peer…") {
		t.Errorf("empty roster says %q (shown %v)", hint.text.Text, hint.box.Visible())
	}
	if hint := h.u.roomsV.hint; !hint.box.Visible() || !strings.HasPrefix(hint.text.Text, "No rooms yet") {
		t.Errorf("empty rooms list says %q (shown %v)", hint.text.Text, hint.box.Visible())
	}
	// The first peer found replaces the hint.
	h.emit(node.PeerUp{Peer: peer(bobID, "Bob", "available", "")})
	if h.u.roster.hint.box.Visible() {
		t.Error("the empty-roster hint stays with a peer in the list")
	}
	h.u.filter.SetText("zed")
	if hint := h.u.roster.hint; hint.text.Text != "No matches" {
		t.Errorf("filter without match says %q", hint.text.Text)
	}
}
