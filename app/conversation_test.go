package app

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"parley/node"
)

// bobHistory is 120 messages one hour apart, so they span six days.
func bobHistory(fc *fakeCore) time.Time {
	start := time.Now().Add(-130 * time.Hour).Truncate(time.Hour)
	fc.addHistory(node.DirectConv(bobID), msgs(bobID, start, 120, "bob")...)
	return start
}

func (h *harness) cursors() []string {
	var out []string
	h.fc.snapshot(func(f *fakeCore) { out = slices.Clone(f.cursors) })
	return out
}

func TestHistoryPagesInWhenScrolledToTop(t *testing.T) {
	fc := fivePeers()
	bobHistory(fc)
	h := newHarness(t, fc)
	c := h.u.conv
	h.openPeer(bobID)
	if len(c.msgs) != pageSize || c.msgs[0].Text != "bob message 070" || c.msgs[49].Text != "bob message 119" {
		t.Fatalf("first page: %d messages, %q … %q", len(c.msgs), c.msgs[0].Text, c.msgs[len(c.msgs)-1].Text)
	}
	if c.items[0].kind != kindOlder {
		t.Fatal("no 'load older' row although there is more history")
	}
	if h.bubbleFor("bob message 119") == nil {
		t.Fatal("the newest message is not shown after opening (not scrolled to the bottom)")
	}
	if h.bubbleFor("bob message 070") != nil {
		t.Fatal("the oldest message of the page is shown: the view did not start at the bottom")
	}
	// Nothing older is fetched until the user scrolls up.
	h.pump()
	if len(c.msgs) != pageSize {
		t.Fatalf("%d messages before scrolling up", len(c.msgs))
	}

	c.list.ScrollToTop()
	h.waitFor("the second page", func() bool { return len(c.msgs) == 2*pageSize })
	if c.msgs[0].Text != "bob message 020" {
		t.Fatalf("second page starts with %q", c.msgs[0].Text)
	}
	if cur := h.cursors(); cur[len(cur)-1] != "c70" {
		t.Errorf("the second page was asked for with cursor %q, want the first page's Next (c70)", cur[len(cur)-1])
	}
	if off := c.list.GetScrollOffset(); off < 100 {
		t.Errorf("the view jumped to the top (offset %v) instead of staying at the message it showed", off)
	}
	if h.bubbleFor("bob message 070") == nil {
		t.Error("the message at the top before paging in is no longer in view")
	}

	// The "load older" button fetches the rest.
	c.armed = false // no automatic load: use the button
	c.list.ScrollToTop()
	rows := h.convRows()
	if len(rows) == 0 || rows[0].kind != kindOlder {
		t.Fatal("no 'load older' row at the top")
	}
	test.Tap(rows[0].older)
	h.waitFor("the third page", func() bool { return len(c.msgs) == 120 })
	if cur := h.cursors(); cur[len(cur)-1] != "c20" {
		t.Errorf("the third page was asked for with cursor %q", cur[len(cur)-1])
	}
	if c.next != "" || c.items[0].kind == kindOlder {
		t.Error("a 'load older' row remains at the start of the history")
	}
	for i := 1; i < len(c.msgs); i++ {
		if c.msgs[i-1].Text >= c.msgs[i].Text {
			t.Fatalf("out of order at %d: %q then %q", i, c.msgs[i-1].Text, c.msgs[i].Text)
		}
	}
}

func TestDaySeparatorsBetweenDays(t *testing.T) {
	fc := fivePeers()
	now := time.Now()
	yesterday := now.AddDate(0, 0, -1)
	day := func(t time.Time, h int) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day(), h, 0, 0, 0, time.Local)
	}
	fc.addHistory(node.DirectConv(bobID),
		node.Message{ID: "a", From: bobID, Text: "old one", Time: day(yesterday, 9), State: node.StateRead},
		node.Message{ID: "b", From: selfID, Text: "old two", Time: day(yesterday, 10), State: node.StateRead},
		node.Message{ID: "c", From: bobID, Text: "new one", Time: day(now, 0).Add(time.Minute), State: node.StateRead},
	)
	h := newHarness(t, fc)
	h.openPeer(bobID)
	var shown []string
	for _, r := range h.convRows() {
		switch r.kind {
		case kindDay:
			shown = append(shown, "["+r.day+"]")
		case kindMsg:
			shown = append(shown, r.b.text)
		}
	}
	want := []string{"[Yesterday]", "old one", "old two", "[Today]", "new one"}
	if !slices.Equal(shown, want) {
		t.Fatalf("rows %q, want %q", shown, want)
	}
	own, other := h.bubbleFor("old two"), h.bubbleFor("old one")
	if !own.b.own || other.b.own {
		t.Fatal("own/other bubbles mixed up")
	}
	bg := func(r *convRow) *canvas.Rectangle { return test.WidgetRenderer(r).(*convRowRenderer).bg }
	if ob, tb := bg(own), bg(other); ob.Position().X+ob.Size().Width < own.Size().Width-2*rowMarginX || tb.Position().X > rowMarginX {
		t.Errorf("own bubble at x=%v (row %v wide), other at x=%v: want own right, other left",
			ob.Position().X, own.Size().Width, tb.Position().X)
	}
	if got := dayLabel(time.Date(2020, 3, 2, 12, 0, 0, 0, time.Local), now); got != "Monday, 2 March 2020" {
		t.Errorf("old day label %q", got)
	}
}

func TestDeliveredAndReadMarksFollowEvents(t *testing.T) {
	fc := fivePeers()
	h := newHarness(t, fc)
	h.openPeer(bobID)
	c := h.u.conv
	test.Type(c.composer, "did you get this?")
	c.composer.TypedKey(enter())
	h.waitFor("sent", func() bool {
		b := h.bubbleFor("did you get this?")
		return b != nil && strings.HasSuffix(b.b.meta, "✓") && !strings.HasSuffix(b.b.meta, "✓✓")
	})
	id := c.msgs[len(c.msgs)-1].ID
	h.emit(node.MessageDelivered{ID: id, To: bobID})
	if m := h.bubbleFor("did you get this?").b.meta; !strings.HasSuffix(m, "✓✓") {
		t.Fatalf("after delivered the mark is %q", m)
	}
	h.emit(node.MessagesRead{IDs: []string{id}, By: bobID})
	if m := h.bubbleFor("did you get this?").b.meta; !strings.HasSuffix(m, "✓✓ read") {
		t.Fatalf("after read the mark is %q", m)
	}
	// A late, smaller receipt does not move the mark back.
	h.emit(node.MessageDelivered{ID: id, To: bobID})
	if m := h.bubbleFor("did you get this?").b.meta; !strings.HasSuffix(m, "read") {
		t.Fatalf("a late delivered receipt moved the mark back to %q", m)
	}
}

func TestQueuedMarkAndIncomingAppend(t *testing.T) {
	fc := fivePeers()
	h := newHarness(t, fc)
	h.openPeer(carolID)
	c := h.u.conv
	test.Type(c.composer, "see you tomorrow")
	c.composer.TypedKey(enter())
	h.waitFor("stored", func() bool { return len(c.msgs) == 1 && c.msgs[0].State == node.StateSent })
	h.emit(node.MessageQueued{ID: c.msgs[0].ID, To: carolID})
	if m := h.bubbleFor("see you tomorrow").b.meta; !strings.HasSuffix(m, "queued") {
		t.Fatalf("queued message shows %q", m)
	}
	h.emit(node.MessageReceived{ID: "in1", From: carolID, Text: "back now", Sent: time.Now()})
	if b := h.bubbleFor("back now"); b == nil || b.b.own {
		t.Fatal("the incoming message is not shown as someone else's in the open conversation")
	}
	if h.u.unread[node.ConvOf(carolID, "")] != 0 {
		t.Error("a message in the open, focused conversation counts as unread")
	}
}

// dayRows are the shown conversation rows as text: "[label]" for a separator.
func (h *harness) dayRows() []string {
	var shown []string
	for _, r := range h.convRows() {
		switch r.kind {
		case kindDay:
			shown = append(shown, "["+r.day+"]")
		case kindMsg:
			shown = append(shown, r.b.text)
		}
	}
	return shown
}

// A window left open overnight: the separators are named against the clock
// when they are drawn, not when their rows were made.
func TestDaySeparatorsFollowTheDate(t *testing.T) {
	fc := fivePeers()
	evening := time.Date(2025, 3, 10, 21, 0, 0, 0, time.Local)
	fc.addHistory(node.DirectConv(bobID),
		node.Message{ID: "a", From: bobID, Text: "good night", Time: evening, State: node.StateRead})
	h := newHarness(t, fc)
	clock := evening.Add(time.Hour)
	h.u.now = func() time.Time { return clock }
	h.u.dateChanged()
	h.openPeer(bobID)
	if got, want := h.dayRows(), []string{"[Today]", "good night"}; !slices.Equal(got, want) {
		t.Fatalf("before midnight: rows %q, want %q", got, want)
	}

	// Past midnight a message arrives: it gets a "Today" of its own, and the
	// old one becomes "Yesterday" instead of a second "Today".
	clock = evening.Add(4 * time.Hour)
	h.emit(node.MessageReceived{ID: "b", From: bobID, Text: "morning", Sent: clock})
	if got, want := h.dayRows(), []string{"[Yesterday]", "good night", "[Today]", "morning"}; !slices.Equal(got, want) {
		t.Fatalf("after a message past midnight: rows %q, want %q", got, want)
	}

	// Another midnight passes with nothing arriving: the minute check relabels.
	clock = clock.AddDate(0, 0, 1)
	h.u.dateChanged()
	want := []string{"[" + evening.Format("Monday, 2 January") + "]", "good night", "[Yesterday]", "morning"}
	if got := h.dayRows(); !slices.Equal(got, want) {
		t.Fatalf("a day later, idle: rows %q, want %q", got, want)
	}
}

func TestNewMessagesIndicatorWhenScrolledUp(t *testing.T) {
	fc := fivePeers()
	bobHistory(fc)
	h := newHarness(t, fc)
	c := h.u.conv
	h.openPeer(bobID)
	if c.newBelow.Visible() {
		t.Fatal("the indicator shows in a conversation just opened")
	}
	// At the bottom, a new message is simply followed.
	h.emit(node.MessageReceived{ID: "n0", From: bobID, Text: "first", Sent: time.Now()})
	if c.newBelow.Visible() || h.bubbleFor("first") == nil {
		t.Fatal("at the bottom: the indicator shows, or the new message is not in view")
	}

	scrollUp := func() {
		t.Helper()
		c.list.ScrollToOffset(c.list.GetScrollOffset() - 600)
		h.pump()
		if c.atBottom() {
			t.Fatal("still at the bottom after scrolling up")
		}
	}
	scrollUp()
	offset := c.list.GetScrollOffset()
	h.emit(node.MessageReceived{ID: "n1", From: bobID, Text: "are you reading this?", Sent: time.Now()})
	if !c.newBelow.Visible() {
		t.Fatal("no indicator for a message that came in below the view")
	}
	if got := c.list.GetScrollOffset(); got != offset || h.bubbleFor("are you reading this?") != nil {
		t.Fatalf("the view moved (offset %v → %v) or shows the new message", offset, got)
	}
	test.Tap(c.newBelow)
	if c.newBelow.Visible() || h.bubbleFor("are you reading this?") == nil || !c.atBottom() {
		t.Fatal("tapping the indicator did not scroll to the newest message and hide it")
	}

	// Scrolling down by hand to the new message hides it too.
	scrollUp()
	h.emit(node.MessageReceived{ID: "n2", From: bobID, Text: "hello?", Sent: time.Now()})
	if !c.newBelow.Visible() {
		t.Fatal("no indicator for the second message")
	}
	c.list.ScrollToBottom()
	h.pump()
	if c.newBelow.Visible() {
		t.Error("the indicator stays after scrolling down to the message")
	}

	// Own messages scroll to the bottom anyway: no indicator.
	scrollUp()
	test.Type(c.composer, "yes, here")
	c.composer.TypedKey(enter())
	h.waitFor("sent", func() bool { return len(h.sent()) == 1 })
	if c.newBelow.Visible() || !c.atBottom() {
		t.Error("sending while scrolled up: indicator shown, or the view did not follow")
	}

	// Opening another conversation clears it.
	scrollUp()
	h.emit(node.MessageReceived{ID: "n3", From: bobID, Text: "one more", Sent: time.Now()})
	h.openPeer(aliceID)
	if c.newBelow.Visible() {
		t.Error("the indicator stays in another conversation")
	}
}
