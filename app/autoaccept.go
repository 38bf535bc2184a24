package app

import (
	"fyne.io/fyne/v2/widget"
)

// autoAcceptSetting is the settings dialog's "accept files from verified peers"
// check. The core's value is read in the background (it is a database read), so
// the check stays disabled until it is known.
type autoAcceptSetting struct {
	u      *ui
	core   autoAcceptCore
	check  *widget.Check
	was    bool
	loaded bool
}

func newAutoAcceptSetting(u *ui) *autoAcceptSetting {
	core, ok := u.core.(autoAcceptCore)
	if !ok || u.files == nil {
		return nil
	}
	a := &autoAcceptSetting{u: u, core: core}
	a.check = widget.NewCheck("Accept files from verified peers without asking", nil)
	a.check.Disable()
	background(u, func() (bool, error) { return core.AutoAcceptVerified(), nil }, func(on bool, _ error) {
		a.was, a.loaded = on, true
		a.check.SetChecked(on)
		a.check.Enable()
	})
	return a
}

func (a *autoAcceptSetting) item() *widget.FormItem {
	it := widget.NewFormItem("Files", a.check)
	it.HintText = "Only from peers whose safety number you compared and marked verified."
	return it
}

// save stores a changed choice in the background.
func (a *autoAcceptSetting) save() {
	on := a.check.Checked
	if !a.loaded || on == a.was {
		return
	}
	background(a.u, func() (struct{}, error) { return struct{}{}, a.core.SetAutoAcceptVerified(on) },
		func(_ struct{}, err error) {
			if err != nil {
				a.u.showError("Changing the file setting", err)
			}
		})
}
