package app

import (
	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"parley/assets"
)

// ShowStartError shows why Parley could not start, in a window of its own, and
// returns when the user closes it. Without it a double-clicked Parley that
// fails (a data folder from a newer version, a port taken) would vanish with
// the reason on a standard error nobody sees — on Windows a GUI program has
// none. Only for a process that has not started the window (Run).
func ShowStartError(err error) {
	a := fyneapp.NewWithID(AppID)
	icon := fyne.NewStaticResource("icon.png", assets.Icon)
	w := a.NewWindow("Parley could not start")
	w.SetIcon(icon)
	msg := widget.NewLabel(err.Error())
	msg.Wrapping = fyne.TextWrapWord
	msg.Selectable = true // so it can be copied into a question to someone
	w.SetContent(container.NewBorder(
		widget.NewLabelWithStyle("Parley could not start", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewHBox(layout.NewSpacer(), widget.NewButton("Close", a.Quit)),
		nil, nil, msg))
	w.Resize(fyne.NewSize(520, 200))
	w.ShowAndRun()
}
