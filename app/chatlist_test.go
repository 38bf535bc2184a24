package app

import (
	"image/color"
	"math"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"parley/node"
)

// chatFixture: Bob wrote last (yesterday, unread), Alice before that (read,
// own message last), the design room three days ago, Carol never; the team room
// is joined and quiet, the old room was left.
// yesterdayNoon is noon of the day before now's: labelled "Yesterday" at any
// hour of now. (now − 30 h, used before, is two days back before 06:00, and
// the test failed every night.)
func yesterdayNoon(now time.Time) time.Time {
	return time.Date(now.Year(), now.Month(), now.Day()-1, 12, 0, 0, 0, now.Location())
}

func chatFixture(now time.Time) *fakeCore {
	fc := fivePeers()
	fc.addHistory(node.DirectConv(aliceID),
		node.Message{ID: "a1", Conv: node.DirectConv(aliceID), From: aliceID, To: selfID, Text: "lunch?", Time: now.Add(-50 * time.Hour), State: node.StateRead},
		node.Message{ID: "a2", Conv: node.DirectConv(aliceID), From: selfID, To: aliceID, Text: "sure,\n at noon", Time: yesterdayNoon(now), State: node.StateRead})
	fc.addHistory(node.DirectConv(bobID),
		node.Message{ID: "b1", Conv: node.DirectConv(bobID), From: bobID, To: selfID, Text: "the build is green", Time: now.Add(-2 * time.Hour), State: node.StateReceived},
		node.Message{ID: "b2", Conv: node.DirectConv(bobID), From: bobID, To: selfID, Text: "ship it?", Time: now.Add(-time.Hour), State: node.StateReceived})
	design, team, old := roomID("design"), roomID("team"), roomID("old")
	fc.rooms[design] = node.Room{ID: design, Name: "design", Joined: true, Members: []string{selfID, daveID}}
	fc.rooms[team] = node.Room{ID: team, Name: "team", Joined: true, Members: []string{selfID}}
	fc.rooms[old] = node.Room{ID: old, Name: "old", Members: []string{eveID}}
	fc.addHistory(node.RoomConv(design),
		node.Message{ID: "d1", Conv: node.RoomConv(design), From: daveID, Room: design, Text: "new logo", Time: now.Add(-72 * time.Hour), State: node.StateRead})
	fc.addHistory(node.RoomConv(old),
		node.Message{ID: "o1", Conv: node.RoomConv(old), From: eveID, Room: old, Text: "bye", Time: now.Add(-10 * time.Minute), State: node.StateRead})
	return fc
}

// chatTitles are the chat list's rows as "title|preview|unread".
func (h *harness) chatRows() []string {
	var out []string
	for _, e := range h.u.chats.rows {
		out = append(out, h.u.chats.title(e)+"|"+h.u.chats.preview(e)+"|"+itoa3(h.u.unread[e.key]))
	}
	return out
}

// shownChatRow finds the drawn row titled title.
func (h *harness) shownChatRow(title string) *chatRow {
	var found *chatRow
	walk(h.u.chats.list, func(o fyne.CanvasObject) {
		if r, ok := o.(*chatRow); ok && r.title.Text == title {
			found = r
		}
	})
	return found
}

func TestChatListOrdersByLastActivity(t *testing.T) {
	h := newHarness(t, chatFixture(time.Now()))
	if h.u.tabs.SelectedIndex() != tabChats || h.u.tabs.Items[tabChats].Text != "Chats" {
		t.Fatalf("the window opens on tab %d", h.u.tabs.SelectedIndex())
	}
	want := []string{
		"Bob|ship it?|002",             // newest, two unread
		"alice|You: sure, at noon|000", // own last message, on one line
		"# design|Dave: new logo|000",  // rooms name the author
		"# team|No messages yet|000",   // joined and quiet: last
	} // Carol (no messages) and the room that was left are not chats
	if got := h.chatRows(); !slices.Equal(got, want) {
		t.Fatalf("chat list\n%q\nwant\n%q", got, want)
	}
	bob := h.shownChatRow("Bob")
	if bob == nil || !bob.badge.badge.Visible() || bob.badge.badgeText.Text != "2" {
		t.Fatalf("Bob's row does not show 2 unread: %+v", bob)
	}
	if alice := h.shownChatRow("alice"); alice == nil || alice.badge.badge.Visible() || alice.when.Text != "Yesterday" {
		t.Fatalf("alice's row: badge shown or time %q", alice.when.Text)
	}
	if bob.avatar.text.Text != "BO" || bob.avatar.disc.FillColor != color.Color(avatarColour(bobID)) {
		t.Errorf("Bob's avatar %q in %v", bob.avatar.text.Text, bob.avatar.disc.FillColor)
	}

	// A new message moves its chat to the top with its preview and count.
	h.emit(node.MessageReceived{ID: "d9", From: daveID, Text: "are you there?", Sent: time.Now()})
	if got := h.chatRows()[0]; got != "Dave|are you there?|001" {
		t.Fatalf("after Dave wrote, first row %q", got)
	}

	// Opening a chat from the list opens the conversation and clears its count.
	h.u.chats.list.Select(h.u.chats.index(node.DirectConv(bobID)))
	h.waitFor("Bob's conversation", func() bool { return h.u.conv.peer == bobID && !h.u.conv.loading })
	if h.u.unread[node.DirectConv(bobID)] != 0 || h.u.roster.list == nil {
		t.Fatalf("Bob's unread count %d after opening", h.u.unread[node.DirectConv(bobID)])
	}

	// Sending moves the own chat up and previews "You:".
	test.Type(h.u.conv.composer, "yes, ship it")
	h.u.conv.composer.TypedKey(enter())
	h.waitFor("the send", func() bool { return h.chatRows()[0] == "Bob|You: yes, ship it|000" })

	// The filter narrows the chats too; People and Rooms are a shortcut away.
	h.u.filter.SetText("design")
	if got := h.chatRows(); len(got) != 1 || got[0] != "# design|Dave: new logo|000" {
		t.Fatalf("filtered chats %q", got)
	}
	h.u.filter.SetText("")
	h.u.shortcut(ctrl("1"))
	if h.u.tabs.SelectedIndex() != tabPeople {
		t.Fatal("Ctrl+1 does not show People")
	}
	h.u.shortcut(ctrl("0"))
	if h.u.tabs.SelectedIndex() != tabChats || h.win.Canvas().Focused() != h.u.chats.list {
		t.Fatal("Ctrl+0 does not show the chats with the list focused")
	}
}

func TestChatListEmptyHint(t *testing.T) {
	h := newHarness(t, fivePeers())
	if len(h.u.chats.rows) != 0 || !h.u.chats.hint.box.Visible() || !h.u.chats.hint.jump.Visible() {
		t.Fatal("an empty chat list does not say how to start a chat")
	}
	test.Tap(h.u.chats.hint.jump)
	if h.u.tabs.SelectedIndex() != tabPeople {
		t.Fatal("the hint's button does not lead to People")
	}
}

func TestInitials(t *testing.T) {
	for name, want := range map[string]string{
		"Ada Lovelace": "AL", "bob": "BO", "Jean-Luc de la Tour": "JT", "  ": "?",
		"@@ zoë": "ZO", "Åsa Öberg": "ÅÖ", "x": "X", "🙂 Kim": "KI",
	} {
		if got := initials(name); got != want {
			t.Errorf("initials(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestAvatarColour: stable per ID, different for different IDs (mostly), and dark
// enough under white initials on every hue (WCAG contrast ≥ 3, large text).
func TestAvatarColour(t *testing.T) {
	if avatarColour(bobID) != avatarColour(bobID) {
		t.Fatal("colour not stable")
	}
	seen := map[color.NRGBA]bool{}
	for _, id := range []string{aliceID, bobID, carolID, daveID, eveID} {
		seen[avatarColour(id)] = true
	}
	if len(seen) < 4 {
		t.Errorf("five peers share %d colours", len(seen))
	}
	lum := func(c color.NRGBA) float64 {
		ch := func(v uint8) float64 {
			x := float64(v) / 255
			if x <= 0.03928 {
				return x / 12.92
			}
			return math.Pow((x+0.055)/1.055, 2.4)
		}
		return 0.2126*ch(c.R) + 0.7152*ch(c.G) + 0.0722*ch(c.B)
	}
	for h := 0.0; h < 360; h += 5 {
		c := avatarHSL(h)
		if ratio := 1.05 / (lum(c) + 0.05); ratio < 3 {
			t.Errorf("hue %.0f: %v has contrast %.2f with white", h, c, ratio)
		}
	}
	if c := hsl(0, 1, 0.5); c != (color.NRGBA{R: 255, A: 255}) {
		t.Errorf("hsl(0,1,.5) = %v, want pure red", c)
	}
}
