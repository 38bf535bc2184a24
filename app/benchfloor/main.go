// Command benchfloor is the smallest Fyne window: one label. cmd/benchgui builds it with
// the same Fyne version and tags as Parley and launches it beside Parley's window on
// the same display, so Parley's own share of start-up time and memory is read
// against what any Fyne program on this renderer costs.
package main

import (
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("app.parley.benchfloor")
	w := a.NewWindow("Fyne floor")
	w.SetContent(widget.NewLabel("The smallest Fyne window, for comparison."))
	w.ShowAndRun()
}
