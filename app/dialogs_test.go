package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func (h *harness) button(text string) *widget.Button {
	var found *widget.Button
	h.everything(func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			found = b
		}
	})
	return found
}

func TestSettingsShowFlagsAndRenames(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.u.showSettings()
	for _, want := range []string{"/home/me/.config/parley", "start-up flags", "11111 22222 33333"} {
		if len(h.labelsContaining(want)) == 0 {
			t.Errorf("settings do not show %q", want)
		}
	}
	var name *keyEntry
	h.everything(func(o fyne.CanvasObject) {
		if e, ok := o.(*keyEntry); ok && e.Text == "Me" {
			name = e
		}
	})
	if name == nil {
		t.Fatal("no display name entry")
	}
	name.SetText("Sam")
	test.Tap(h.button("Save"))
	h.waitFor("the rename", func() bool { return h.u.self.Name == "Sam" })
	if h.fc.Self().Name != "Sam" || h.u.profile.name.Text != "Sam" {
		t.Errorf("core name %q, profile %q", h.fc.Self().Name, h.u.profile.name.Text)
	}
}

func TestAddPeerReportsFailure(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.u.showAddPeer()
	var addr *keyEntry
	h.everything(func(o fyne.CanvasObject) {
		if e, ok := o.(*keyEntry); ok && e.PlaceHolder == "192.168.1.20:48556" {
			addr = e
		}
	})
	if addr == nil {
		t.Fatal("no address entry")
	}
	test.Type(addr, "10.1.2.3:48556")
	addr.TypedKey(enter()) // Enter submits the form
	h.waitFor("the error", func() bool { return len(h.labelsContaining("no network in tests")) > 0 })
	for _, bad := range []string{"", "10.1.2.3", "host:0", "host:99999", ":48556"} {
		if validAddr(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := validAddr("parley-host.local:48556"); err != nil {
		t.Errorf("a host name was refused: %v", err)
	}
	if strings.Contains(h.win.Title(), "(") {
		t.Errorf("title %q", h.win.Title())
	}
}

func TestEscapeClosesDialogs(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.u.showSettings()
	h.u.showPeerDetails(bobID)
	if len(h.u.dialogs) != 2 || len(h.win.Canvas().Overlays().List()) != 2 {
		t.Fatalf("%d dialogs open", len(h.u.dialogs))
	}
	// With nothing focused, Escape reaches the canvas handler.
	h.win.Canvas().Unfocus()
	h.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if len(h.u.dialogs) != 1 {
		t.Fatalf("Escape left %d dialogs", len(h.u.dialogs))
	}
	// A focused entry passes Escape on too.
	h.u.filter.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if len(h.u.dialogs) != 0 || len(h.win.Canvas().Overlays().List()) != 0 {
		t.Fatalf("%d dialogs left", len(h.u.dialogs))
	}
}
