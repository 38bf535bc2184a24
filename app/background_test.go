package app

import (
	"slices"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// checkLabelled finds a shown check box by its text.
func (h *harness) checkLabelled(label string) *widget.Check {
	var found *widget.Check
	h.everything(func(o fyne.CanvasObject) {
		if c, ok := o.(*widget.Check); ok && c.Text == label {
			found = c
		}
	})
	return found
}

const (
	keepLabel  = "Keep running in the tray when the window is closed"
	loginLabel = "Start Parley when I log in"
)

// trayHarness: a desktop with a tray, quitting recorded, a fake login entry.
func trayHarness(t *testing.T, tray bool) (h *harness, quits *int, login *loginFake) {
	h = newHarness(t, fivePeers())
	quits = new(int)
	h.u.quit = func() { *quits++ }
	login = &loginFake{}
	h.u.opts.TrayAvailable = tray
	h.u.opts.StartAtLogin = login.enabled
	h.u.opts.SetStartAtLogin = login.set
	return h, quits, login
}

type loginFake struct {
	mu   sync.Mutex
	on   bool
	sets []bool
}

func (l *loginFake) enabled() (bool, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.on, nil }
func (l *loginFake) set(on bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = on
	l.sets = append(l.sets, on)
	return nil
}
func (l *loginFake) calls() []bool { l.mu.Lock(); defer l.mu.Unlock(); return slices.Clone(l.sets) }

func TestCloseHidesIntoTheTray(t *testing.T) {
	h, quits, _ := trayHarness(t, true)
	h.u.closeRequested()
	if *quits != 0 || !h.u.hidden {
		t.Fatalf("with a tray, closing quit %d times, hidden %v", *quits, h.u.hidden)
	}
	if len(h.notes) != 1 || !contains(h.notes[0], "still running") {
		t.Fatalf("notes %q: the user is not told where Parley went", h.notes)
	}
	h.u.closeRequested()
	if len(h.notes) != 1 {
		t.Error("told twice")
	}
	// The tray brings it back, and its Quit ends the app (main then stops the
	// node, which says goodbye to its peers).
	tr := h.u.tray
	tr.update()
	var show, quit *fyne.MenuItem
	for _, it := range tr.menu.Items {
		switch it.Label {
		case "Show Parley":
			show = it
		case "Quit Parley":
			quit = it
		}
	}
	if show == nil || quit == nil || !quit.IsQuit || tr.menu.Items[len(tr.menu.Items)-1] != quit {
		t.Fatalf("tray menu lacks Show or a last Quit: %v", tr.menu.Items)
	}
	show.Action()
	if h.u.hidden {
		t.Error("Show Parley left the window hidden")
	}
	quit.Action()
	if *quits != 1 {
		t.Errorf("the tray's Quit quit %d times", *quits)
	}
}

func TestCloseQuitsWhenNotKept(t *testing.T) {
	h, quits, _ := trayHarness(t, true)
	h.u.showSettings()
	keep := h.checkLabelled(keepLabel)
	if keep == nil || !keep.Checked || keep.Disabled() {
		t.Fatalf("with a tray the switch is not on by default: %+v", keep)
	}
	keep.SetChecked(false)
	test.Tap(h.button("Save"))
	h.u.closeRequested()
	if *quits != 1 || h.u.hidden {
		t.Fatalf("switched off, closing quit %d times, hidden %v", *quits, h.u.hidden)
	}
	if fyne.CurrentApp().Preferences().BoolWithFallback(prefKeepInTray, true) {
		t.Error("the choice was not stored")
	}
}

// Without a tray the window is never hidden (it could not be brought back).
func TestCloseQuitsWithoutATray(t *testing.T) {
	h, quits, _ := trayHarness(t, false)
	h.u.showSettings()
	if keep := h.checkLabelled(keepLabel); keep == nil || keep.Checked || !keep.Disabled() {
		t.Fatalf("without a tray the switch is offered: %+v", keep)
	}
	h.u.closeRequested()
	if *quits != 1 || h.u.hidden {
		t.Fatalf("without a tray, closing quit %d times, hidden %v", *quits, h.u.hidden)
	}
}

func TestStartAtLoginSetting(t *testing.T) {
	h, _, login := trayHarness(t, true)
	h.u.showSettings()
	c := h.checkLabelled(loginLabel)
	if c == nil || c.Checked {
		t.Fatalf("start at login: %+v", c)
	}
	c.SetChecked(true)
	test.Tap(h.button("Save"))
	h.waitFor("the login entry", func() bool { return len(login.calls()) == 1 })
	// Saving again without a change writes nothing.
	h.u.showSettings()
	if c := h.checkLabelled(loginLabel); c == nil || !c.Checked {
		t.Fatal("the switch does not show the entry made")
	}
	test.Tap(h.button("Save"))
	h.pump()
	if got := login.calls(); !slices.Equal(got, []bool{true}) {
		t.Fatalf("login entry calls %v", got)
	}
	// A window without the option (no SetStartAtLogin) does not show it.
	h.u.opts.SetStartAtLogin = nil
	h.u.escape()
	h.u.showSettings()
	if h.checkLabelled(loginLabel) != nil {
		t.Error("start at login offered without a way to set it")
	}
}
