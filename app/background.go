package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Staying reachable (issue 20, item 3): closing the window may leave Parley
// running in the tray, so peers can still reach this node, call it and send it
// files; and Parley may start at login. Quitting — from the tray or with the
// window when it is not kept — ends the app, and main then stops the node,
// which says goodbye to its peers.

// prefKeepInTray is the Fyne preference for keeping Parley in the tray. It
// belongs to this window, not to the node (the headless skin has no window to
// close), so it lives in the app's preferences, not in the node's settings.
const prefKeepInTray = "keepInTray"

// keepInTray says whether closing the window only hides it: the user's choice,
// on by default where a tray exists, and never without a tray, where a hidden
// window could not be brought back.
func (u *ui) keepInTray() bool {
	if !u.opts.TrayAvailable {
		return false
	}
	return fyne.CurrentApp().Preferences().BoolWithFallback(prefKeepInTray, true)
}

// closeRequested is the window's close button: hide into the tray, or quit.
// The first time it hides, a notification says where Parley went, as a window
// that vanishes while its app keeps running surprises people otherwise.
func (u *ui) closeRequested() {
	if !u.keepInTray() {
		u.quit()
		return
	}
	if u.win != nil {
		u.win.Hide()
	}
	u.hidden = true
	if !u.toldHidden {
		u.toldHidden = true
		u.notify("Parley is still running",
			"Others can still reach you. Open Parley or quit it from its icon in the tray.")
	}
}

// showWindow brings the window back (tray menu).
func (u *ui) showWindow() {
	u.hidden = false
	if u.win != nil {
		u.win.Show()
		u.win.RequestFocus()
	}
}

// backgroundSettings are the two switches in Settings.
type backgroundSettings struct {
	u       *ui
	tray    *widget.Check
	login   *widget.Check // nil: starting at login is not offered (no SetStartAtLogin)
	loginOn bool          // what the login switch was when the dialog opened
}

func newBackgroundSettings(u *ui) *backgroundSettings {
	s := &backgroundSettings{u: u}
	s.tray = widget.NewCheck("Keep running in the tray when the window is closed", nil)
	s.tray.SetChecked(u.keepInTray())
	if !u.opts.TrayAvailable {
		s.tray.Disable()
	}
	if u.opts.SetStartAtLogin != nil {
		s.login = widget.NewCheck("Start Parley when I log in", nil)
		if u.opts.StartAtLogin != nil {
			on, err := u.opts.StartAtLogin()
			if err != nil {
				u.showError("Reading the start-up setting", err)
			}
			s.loginOn = on
			s.login.SetChecked(on)
		}
	}
	return s
}

func (s *backgroundSettings) items() []*widget.FormItem {
	tray := widget.NewFormItem("Closing", s.tray)
	if s.u.opts.TrayAvailable {
		tray.HintText = "Quit from the tray icon to go offline."
	} else {
		tray.HintText = "This desktop shows no tray icons, so closing the window quits Parley."
	}
	out := []*widget.FormItem{tray}
	if s.login != nil {
		out = append(out, widget.NewFormItem("Start-up", s.login))
	}
	return out
}

// save applies the switches: the tray choice at once, the login entry written
// or removed only when it changed.
func (s *backgroundSettings) save() {
	if s.u.opts.TrayAvailable {
		fyne.CurrentApp().Preferences().SetBool(prefKeepInTray, s.tray.Checked)
	}
	if s.login == nil || s.login.Checked == s.loginOn {
		return
	}
	on, set := s.login.Checked, s.u.opts.SetStartAtLogin
	background(s.u, func() (struct{}, error) { return struct{}{}, set(on) },
		func(_ struct{}, err error) { s.u.showError("Changing the start-up setting", err) })
}
