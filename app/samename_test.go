package app

import (
	"fyne.io/fyne/v2"
	"strings"
	"testing"

	"parley/node"
)

// Two peers called Alice are told apart in the list by the start of their
// safety numbers; a look-alike whose first group matches gets a longer one;
// a peer with a name of its own shows just the name.
func TestSameNameToldApart(t *testing.T) {
	real := peer(aliceID, "Alice", "available", "")
	real.Fingerprint = "48213 11111 22222 33333 44444 55555"
	twin := peer(mkID("alice-2"), "alice", "available", "")
	twin.Fingerprint = "90112 11111 22222 33333 44444 55555"
	grind := peer(mkID("alice-3"), "Alice", "available", "")
	grind.Fingerprint = "48213 77777 22222 33333 44444 55555"
	h := newHarness(t, newFakeCore(real, twin, grind, peer(bobID, "Bob", "available", "")))
	h.win.Canvas().Refresh(h.u.roster.list)
	for _, want := range []string{"Alice · 48213 11111", "alice · 90112", "Alice · 48213 77777", "Bob"} {
		if h.rosterRow(want) == nil {
			var shown []string
			walk(h.u.roster.list, func(o fyne.CanvasObject) {
				if r, ok := o.(*listRow); ok {
					shown = append(shown, r.title.Text)
				}
			})
			t.Errorf("no row %q (rows: %s)", want, strings.Join(shown, " | "))
		}
	}
}

func TestDistinctPrefix(t *testing.T) {
	p := node.PeerView{ID: "p", Fingerprint: "1 2 3"}
	for _, tc := range []struct {
		others []node.PeerView
		want   string
	}{
		{[]node.PeerView{{Fingerprint: "9 2 3"}}, "1"},
		{[]node.PeerView{{Fingerprint: "1 9 3"}, {Fingerprint: "8 2 3"}}, "1 2"},
		{[]node.PeerView{{Fingerprint: "1 2 3"}}, "1 2 3"}, // the same number: all of it
		{[]node.PeerView{{ID: "abcdefghij"}}, "1"},         // another without a number
	} {
		if got := distinctPrefix(p, tc.others); got != tc.want {
			t.Errorf("distinctPrefix(%v) = %q, want %q", tc.others, got, tc.want)
		}
	}
	if got := distinctPrefix(node.PeerView{ID: "0123456789"}, nil); got != "01234567" {
		t.Errorf("without a safety number: %q", got)
	}
}

// The same-name warning is one sentence however many others share the name.
func TestConflictWarningOneLine(t *testing.T) {
	a := node.PeerView{ID: "a", Name: "Alice", Fingerprint: "11111 22222"}
	b := node.PeerView{ID: "b", Name: "Alice", Fingerprint: "33333 44444"}
	one := conflictWarning([]node.PeerView{a})
	two := conflictWarning([]node.PeerView{a, b})
	for _, w := range []string{one, two} {
		if strings.Contains(w, "\n") {
			t.Errorf("more than one line: %q", w)
		}
	}
	if !strings.Contains(one, "Another peer uses the name Alice with a different key (fingerprint 11111 22222)") {
		t.Errorf("one other: %q", one)
	}
	if !strings.Contains(two, "2 other peers use the name Alice") || !strings.Contains(two, "11111 22222; 33333 44444") {
		t.Errorf("two others: %q", two)
	}
}

// A room's header says who can see and join it.
func TestRoomSaysWhoSeesIt(t *testing.T) {
	fc := fivePeers()
	room := roomID("ops")
	fc.rooms[room] = node.Room{ID: room, Name: "ops", Topic: "night shift", Members: []string{selfID, bobID}, Joined: true}
	h := newHarness(t, fc)
	h.u.openRoom(room)
	if got := h.u.conv.header.subtitle.Text; got != "Open to this network · 2 members · night shift" {
		t.Errorf("open network: %q", got)
	}
	h.u.self.Team = "k7f3"
	h.u.conv.refreshHeader()
	if got := h.u.conv.header.subtitle.Text; !strings.HasPrefix(got, "Open to the team · ") {
		t.Errorf("team: %q", got)
	}
}
