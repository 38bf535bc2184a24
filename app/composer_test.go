package app

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
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
