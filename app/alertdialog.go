package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// alertButton is the side panel's "Alert everyone…" (nil without an urgent
// core): red, as it alarms every screen on the network.
func (u *ui) alertButton() *widget.Button {
	if u.urgentCore() == nil {
		return nil
	}
	b := widget.NewButton("Alert everyone…", u.showAlertDialog)
	b.Importance = widget.DangerImportance
	return b
}

// alertAudience is who an all-hands alert reaches, in the confirm's words.
func (u *ui) alertAudience() string {
	if u.self.Team != "" {
		return "every member of your team"
	}
	return "everyone on this network"
}

// showAlertDialog asks for the alert's text and confirms whom it alarms
// before anything goes out: an alert cannot be taken back from the screens it
// reached (Cancel only stops it spreading further).
func (u *ui) showAlertDialog() {
	if u.win == nil || u.urgentCore() == nil {
		return
	}
	text := newKeyEntry(u)
	text.SetPlaceHolder("What is happening, and what should people do?")
	text.MultiLine = true
	text.Wrapping = fyne.TextWrapWord
	text.SetMinRowsVisible(3)
	text.Validator = func(s string) error {
		if isBlank(s) {
			return errEmptyAlert
		}
		if len(s) > maxAlertBytes {
			return errLongAlert
		}
		return nil
	}
	warn := widget.NewLabel("This sounds an alarm on the screen of " + u.alertAudience() +
		", whatever they are doing, until each of them acknowledges it. Everyone sees that you raised it.")
	warn.Wrapping = fyne.TextWrapWord
	warn.Importance = widget.DangerImportance
	d := dialog.NewForm("Alert everyone", "Alert everyone", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("", warn), widget.NewFormItem("Alert", text)},
		func(ok bool) {
			if ok {
				u.raiseAlert(text.Text)
			}
		}, u.win)
	d.Resize(fyne.NewSize(520, 320))
	u.showDialog(d)
	u.win.Canvas().Focus(text)
}

// maxAlertBytes is the core's limit on an alert's text (urgent/doc.go: 1,024
// bytes), checked here so the dialog says so before sending.
const maxAlertBytes = 1024

var (
	errEmptyAlert = alertError("say what is happening")
	errLongAlert  = alertError("at most 1,024 bytes — keep it short")
)

type alertError string

func (e alertError) Error() string { return string(e) }
