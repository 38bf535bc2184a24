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

// searchFake is the fake core with message search: every stored message whose
// folded text has every folded word, newest first (as the node answers).
type searchFake struct {
	*fakeCore
	queries []string
}

func (s *searchFake) Search(query string, limit int) ([]node.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, query)
	words := strings.Fields(node.FoldText(query))
	var out []node.Message
	for _, ms := range s.history {
	next:
		for _, m := range ms {
			for _, w := range words {
				if !strings.Contains(node.FoldText(m.Text), w) {
					continue next
				}
			}
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b node.Message) int { return b.Time.Compare(a.Time) })
	return out[:min(limit, len(out))], nil
}

// searchHarness: Alice's 1:1 chat of 300 messages with "Café on Friday?" the
// 11th (far beyond the first page), and a room where the café is closed.
func searchHarness(t *testing.T) (*harness, *searchFake, string) {
	test.NewTempApp(t)
	fc := newFakeCore(peer(aliceID, "Alice", "available", ""), peer(bobID, "Bob", "available", ""))
	start := time.Now().Add(-400 * time.Hour)
	ms := msgs(aliceID, start, 300, "alice")
	ms[10].Text = "Café on Friday?"
	fc.addHistory(node.DirectConv(aliceID), ms...)
	room := roomID("site-team")
	fc.rooms[room] = node.Room{ID: room, Name: "site-team", Members: []string{selfID, bobID}, Joined: true}
	fc.addHistory(node.RoomConv(room), node.Message{ID: "r1", Conv: node.RoomConv(room), From: bobID, Room: room,
		Text: "Sorry, the CAFE is closed today", Time: start.Add(350 * time.Hour), State: node.StateReceived})
	sf := &searchFake{fakeCore: fc}
	return newHarnessFor(t, sf), sf, ms[10].ID
}

func (h *harness) resultTexts() []string {
	var out []string
	walk(h.u.search.list, func(o fyne.CanvasObject) {
		if r, ok := o.(*resultRow); ok {
			out = append(out, r.where.Text+" | "+r.text.Text)
			// A row bound after its first layout is laid out again: the time
			// gets its whole width (it was cut to the empty label's).
			if r.when.Size().Width < r.when.MinSize().Width {
				h.t.Errorf("the time %q is cut to %.0f of %.0f", r.when.Text, r.when.Size().Width, r.when.MinSize().Width)
			}
		}
	})
	return out
}

func TestSearchFindsAndOpensAtTheMessage(t *testing.T) {
	h, sf, target := searchHarness(t)
	if h.u.tabs.Items[tabSearch].Text != "Search" {
		t.Fatalf("tab %d is %q", tabSearch, h.u.tabs.Items[tabSearch].Text)
	}
	// Ctrl+F, from anywhere, puts the keyboard in the search box.
	h.u.shortcut(ctrl("F"))
	if h.u.tabs.SelectedIndex() != tabSearch || h.win.Canvas().Focused() != h.u.search.entry {
		t.Fatalf("Ctrl+F: tab %d, focus %v", h.u.tabs.SelectedIndex(), h.win.Canvas().Focused())
	}
	test.Type(h.u.search.entry, "cafe")
	h.waitFor("two results", func() bool { return len(h.u.search.results) == 2 })
	h.win.Resize(fyne.NewSize(1000, 650)) // lays the shown tab out
	h.win.Canvas().Refresh(h.u.search.list)
	got := h.resultTexts()
	want := []string{"# site-team — Bob | Sorry, the CAFE is closed today", "Alice | Café on Friday?"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("results %q, want %q", got, want)
	}
	if h.u.search.status.Text != "2 messages" {
		t.Errorf("status %q", h.u.search.status.Text)
	}
	// One search per keystroke, answered in any order: the list shows the
	// answer to what the box holds.
	sf.snapshot(func(f *fakeCore) {
		if !slices.Contains(sf.queries, "cafe") || h.u.search.query != "cafe" {
			t.Errorf("queries %q, shown for %q", sf.queries, h.u.search.query)
		}
	})

	// Choosing Alice's result opens her conversation at that message, 289
	// messages up from the newest: the pages between are read in.
	h.u.search.list.Select(1)
	h.waitFor("the message in view", func() bool {
		return h.u.conv.peer == aliceID && !h.u.conv.loading && h.u.conv.target == ""
	})
	if _, ok := h.u.conv.index[target]; !ok {
		t.Fatal("the found message was not loaded")
	}
	h.win.Canvas().Refresh(h.u.conv.list)
	r := h.bubbleFor("Café on Friday?")
	if r == nil {
		t.Fatal("the found message is not on screen")
	}
	if !r.b.found {
		t.Error("the found message is not marked")
	}
	if other := h.bubbleFor("alice message 011"); other != nil && other.b.found {
		t.Error("a neighbour is marked too")
	}
	// Its neighbours are there, so it is read in context, and the newest
	// message is still the last one (the view is one unbroken history).
	c := h.u.conv
	if c.msgs[len(c.msgs)-1].ID != "alice-299" || c.index[target] == 0 {
		t.Errorf("history around the message: %d messages, newest %s", len(c.msgs), c.msgs[len(c.msgs)-1].ID)
	}

	// Another conversation clears the mark.
	h.u.openPeer(bobID)
	h.u.openPeer(aliceID)
	h.waitFor("Alice again", func() bool { return h.u.conv.peer == aliceID && !h.u.conv.loading })
	if h.u.conv.found != "" {
		t.Error("the mark outlived the conversation")
	}
}

func TestSearchNothingAndClearing(t *testing.T) {
	h, _, _ := searchHarness(t)
	test.Type(h.u.search.entry, "zanzibar")
	h.waitFor("an answer", func() bool { return h.u.search.query == "zanzibar" })
	if len(h.u.search.results) != 0 || h.u.search.status.Text != "No messages found" {
		t.Fatalf("no match: %d results, %q", len(h.u.search.results), h.u.search.status.Text)
	}
	// Enter with no result opens nothing.
	h.u.search.entry.TypedKey(enter())
	if h.u.conv.key != "" {
		t.Errorf("Enter opened %q", h.u.conv.key)
	}
	h.u.search.entry.SetText("friday")
	h.waitFor("one result", func() bool { return len(h.u.search.results) == 1 })
	// Enter opens the first result.
	h.u.search.entry.TypedKey(enter())
	h.waitFor("Alice's chat", func() bool { return h.u.conv.peer == aliceID && h.u.conv.target == "" && !h.u.conv.loading })
	h.u.search.entry.SetText("  ")
	if h.u.search.results != nil || h.u.search.status.Text != "" {
		t.Errorf("a blank box keeps %d results, %q", len(h.u.search.results), h.u.search.status.Text)
	}
}

// A core without search has no Search tab and Ctrl+F does nothing.
func TestNoSearchWithoutTheCore(t *testing.T) {
	h := newHarness(t, newFakeCore())
	if h.u.search != nil || len(h.u.tabs.Items) != tabSearch || h.u.shortcut(ctrl("F")) {
		t.Fatal("search shown for a core without it")
	}
}

func TestSnippet(t *testing.T) {
	long := "We talked about many things yesterday evening and then, at last, the Straße party"
	for _, tc := range []struct{ text, q, want string }{
		{"short one", "one", "short one"},
		{"line one\nline  two", "two", "line one line two"},
		{long, "strasse", "…and then, at last, the Straße party"},
		{long, "absent", long},
		{long, "", long},
	} {
		if got := snippet(tc.text, tc.q); got != tc.want {
			t.Errorf("snippet(%q, %q) = %q, want %q", tc.text, tc.q, got, tc.want)
		}
	}
}
