package app

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func (h *harness) presenceCalls() []string {
	var out []string
	h.fc.snapshot(func(f *fakeCore) { out = slices.Clone(f.presence) })
	return out
}

func TestOwnPresenceAndStatus(t *testing.T) {
	h := newHarness(t, fivePeers())
	p := h.u.profile
	if p.name.Text != "Me" || p.presence.Selected != "Available" {
		t.Fatalf("profile shows %q %q", p.name.Text, p.presence.Selected)
	}
	p.presence.SetSelected("Busy")
	h.waitFor("SetPresence", func() bool { return slices.Equal(h.presenceCalls(), []string{"busy|"}) })
	test.Type(p.status, "in the lab")
	p.status.TypedKey(enter())
	h.waitFor("status text", func() bool { return len(h.presenceCalls()) == 2 })
	if got := h.presenceCalls()[1]; got != "busy|in the lab" {
		t.Fatalf("SetPresence(%q)", got)
	}
	if h.u.tray.status.Label != "Me — Busy" || !h.u.tray.choose["busy"].Checked {
		t.Errorf("tray status %q", h.u.tray.status.Label)
	}
	if p.dot.FillColor != presenceColour("busy") {
		t.Error("own dot not red")
	}
}

type reportingCore struct{ *fakeCore }

func (reportingCore) Presence() (string, string) { return "away", "back at 3" }

func TestPresenceFromCoreAtStart(t *testing.T) {
	test.NewTempApp(t)
	h := newHarnessFor(t, reportingCore{fivePeers()})
	if h.u.profile.presence.Selected != "Away" || h.u.profile.status.Text != "back at 3" {
		t.Fatalf("profile starts as %q %q", h.u.profile.presence.Selected, h.u.profile.status.Text)
	}
}

func TestTabOrder(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.openPeer(bobID)
	c := h.win.Canvas()
	c.Focus(h.u.filter)
	var order []fyne.Focusable
	for i := 0; i < 12; i++ {
		test.FocusNext(c)
		order = append(order, c.Focused())
	}
	pos := func(f fyne.Focusable) int { return slices.Index(order, f) }
	list, composer, send := pos(h.u.chats.list), pos(h.u.conv.composer), pos(h.u.conv.send)
	if list != 0 {
		t.Errorf("Tab from the filter goes to %T, want the chat list (the tab on show)", order[0])
	}
	if composer < 0 || send != composer+1 {
		t.Errorf("composer at %d, send at %d in %v", composer, send, order)
	}
}
