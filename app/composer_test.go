package app

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"parley/node"
)

func (h *harness) sent() []string {
	var out []string
	h.fc.snapshot(func(f *fakeCore) { out = slices.Clone(f.sent) })
	return out
}

func TestEnterSendsAndClears(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.openPeer(bobID)
	c := h.u.conv.composer
	test.Type(c, "hello Bob")
	c.TypedKey(enter())
	if c.Text != "" {
		t.Fatalf("composer holds %q after Enter", c.Text)
	}
	h.waitFor("the send", func() bool { return slices.Equal(h.sent(), []string{bobID + "|hello Bob"}) })
	h.waitFor("the bubble", func() bool { b := h.bubbleFor("hello Bob"); return b != nil && b.b.own })

	// Enter on an empty or blank composer sends nothing.
	test.Type(c, "   ")
	c.TypedKey(enter())
	// Ctrl+Enter sends too.
	c.SetText("")
	test.Type(c, "second")
	c.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierControl})
	h.waitFor("the second send", func() bool { return len(h.sent()) == 2 })
	if got := h.sent(); got[1] != bobID+"|second" {
		t.Fatalf("sent %q", got)
	}
}

func TestShiftEnterAddsLineWithoutSending(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.openPeer(bobID)
	c := h.u.conv.composer
	test.Type(c, "first line")
	c.KeyDown(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	c.TypedKey(enter())
	c.KeyUp(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	test.Type(c, "second line")
	if c.Text != "first line\nsecond line" {
		t.Fatalf("composer holds %q", c.Text)
	}
	h.pump()
	if len(h.sent()) != 0 {
		t.Fatalf("Shift+Enter sent %q", h.sent())
	}
	c.TypedKey(enter())
	h.waitFor("the send", func() bool { return len(h.sent()) == 1 })
	if got := h.sent()[0]; got != bobID+"|first line\nsecond line" {
		t.Fatalf("sent %q", got)
	}
	h.waitFor("a two-line bubble", func() bool {
		b := h.bubbleFor("first line\nsecond line")
		return b != nil && len(b.b.lines) == 2
	})
}

func TestOfflineNotice(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.openPeer(carolID)
	n := h.u.conv.notice
	want := "Carol is offline — your message will be queued and delivered when they return"
	if !n.Visible() || !strings.Contains(n.Text, want) {
		t.Fatalf("notice visible=%v %q", n.Visible(), n.Text)
	}
	if h.u.conv.composer.Disabled() {
		t.Fatal("the composer is disabled for an offline peer")
	}
	test.Type(h.u.conv.composer, "later")
	h.u.conv.composer.TypedKey(enter())
	h.waitFor("the send", func() bool { return len(h.sent()) == 1 })

	h.emit(node.PeerUp{Peer: peer(carolID, "Carol", "available", "")})
	if n.Visible() {
		t.Fatalf("notice still shown after Carol came back: %q", n.Text)
	}
	h.openPeer(bobID)
	if n.Visible() {
		t.Fatal("notice shown for an online peer")
	}
}

func TestLongTextWraps(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.openPeer(bobID)
	long := strings.Repeat("word ", 60) + strings.Repeat("x", 200)
	h.u.conv.submit(long)
	h.waitFor("the bubble", func() bool { return h.bubbleFor(long) != nil })
	b := h.bubbleFor(long).b
	if len(b.lines) < 4 {
		t.Fatalf("%d lines", len(b.lines))
	}
	for _, l := range b.lines {
		if w := textWidth(l, textSize(), false); w > bubbleTextWidth {
			t.Errorf("line %q is %v wide", l, w)
		}
	}
	if strings.Join(b.lines, "") != strings.ReplaceAll(long, " ", "") &&
		strings.ReplaceAll(strings.Join(b.lines, " "), " ", "") != strings.ReplaceAll(long, " ", "") {
		t.Error("wrapping lost text")
	}
}

// tapMenuItem taps the item labelled label in the open pop-up menu (the top
// overlay); false when there is no such item.
func (h *harness) tapMenuItem(label string) bool {
	top := h.win.Canvas().Overlays().Top()
	if top == nil {
		return false
	}
	// Ancestors come before their descendants in the walk, so the last
	// tappable object holding the label is its menu item.
	var item fyne.Tappable
	walk(top, func(o fyne.CanvasObject) {
		tap, ok := o.(fyne.Tappable)
		if !ok {
			return
		}
		walk(o, func(in fyne.CanvasObject) {
			if t, ok := in.(*canvas.Text); ok && t.Text == label {
				item = tap
			}
		})
	})
	if item == nil {
		return false
	}
	item.Tapped(&fyne.PointEvent{})
	return true
}

// closeMenu dismisses the pop-up menu on top.
func (h *harness) closeMenu() {
	if top := h.win.Canvas().Overlays().Top(); top != nil {
		h.win.Canvas().Overlays().Remove(top)
	}
}

func TestRetryAFailedMessage(t *testing.T) {
	for _, room := range []bool{false, true} {
		name := map[bool]string{false: "direct", true: "room"}[room]
		t.Run(name, func(t *testing.T) {
			fc := fivePeers()
			design := roomID("design")
			fc.rooms[design] = node.Room{ID: design, Name: "design", Members: []string{selfID, bobID}, Joined: true}
			h := newHarness(t, fc)
			if room {
				h.u.openRoom(design)
				h.waitFor("the room", func() bool { return h.u.conv.room == design && !h.u.conv.loading })
			} else {
				h.openPeer(bobID)
			}
			c := h.u.conv
			h.fc.snapshot(func(f *fakeCore) { f.sendErr = errors.New("no route to Bob") })
			test.Type(c.composer, "are you coming?")
			c.composer.TypedKey(enter())
			h.waitFor("not sent", func() bool {
				b := h.bubbleFor("are you coming?")
				return b != nil && strings.Contains(b.b.meta, "not sent")
			})
			h.u.escape() // the error dialog

			// A message that went out has no Retry.
			h.fc.snapshot(func(f *fakeCore) { f.sendErr = nil })
			test.Type(c.composer, "hello?")
			c.composer.TypedKey(enter())
			h.waitFor("sent", func() bool { return len(h.sent()) == 1 })
			h.pump()
			h.bubbleFor("hello?").TappedSecondary(&fyne.PointEvent{})
			if h.tapMenuItem("Retry") {
				t.Fatal("a sent message's menu offers Retry")
			}
			if !h.tapMenuItem("Copy text") {
				t.Fatal("a sent message's menu has no Copy text")
			}
			if got := fyne.CurrentApp().Clipboard().Content(); got != "hello?" {
				t.Errorf("Copy text copied %q", got)
			}
			h.closeMenu()

			h.bubbleFor("are you coming?").TappedSecondary(&fyne.PointEvent{})
			if !h.tapMenuItem("Retry") {
				t.Fatal("the failed message's menu has no Retry")
			}
			h.waitFor("the resend", func() bool {
				b := h.bubbleFor("are you coming?")
				return b != nil && strings.HasSuffix(b.b.meta, "✓")
			})
			want := bobID + "|are you coming?"
			if room {
				want = "#" + design + "|are you coming?"
			}
			if got := h.sent(); len(got) != 2 || got[1] != want {
				t.Fatalf("core sends %q, want the retried message last", got)
			}
			// Resent in place: still once in the view, now under the core's ID.
			n := 0
			for _, m := range c.msgs {
				if m.Text == "are you coming?" {
					n++
					if strings.HasPrefix(m.ID, "pending-") {
						t.Errorf("the resent message keeps its provisional ID %q", m.ID)
					}
				}
			}
			if n != 1 {
				t.Errorf("the message is in the view %d times", n)
			}
			if len(h.u.dialogs) != 0 {
				t.Error("an error dialog after a successful retry")
			}
		})
	}
}
