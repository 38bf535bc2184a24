package app

import (
	"slices"
	"testing"
	"time"

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
	if h.u.unread[convKey(bobID, "")] != 1 {
		t.Error("a message in the open conversation of an unfocused window is not counted unread")
	}
	h.u.setFocused(true)
	if h.u.unread[convKey(bobID, "")] != 0 {
		t.Error("focusing the window does not mark the open conversation read")
	}
	h.emit(node.MessageReceived{ID: "m2", From: bobID, Text: "ok", Sent: time.Now()})
	if len(h.notes) != 1 {
		t.Errorf("notified while focused: %q", h.notes)
	}
}
