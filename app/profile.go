package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

var presenceOptions = []string{"Available", "Away", "Busy"}

// profileView is the own name, presence selector and status text.
type profileView struct {
	u        *ui
	dot      *canvas.Circle
	name     *widget.Label
	presence *widget.Select
	status   *keyEntry
	quiet    bool // set while the selector is updated from state, not by the user
	obj      fyne.CanvasObject
}

func newProfileView(u *ui) *profileView {
	p := &profileView{u: u, dot: canvas.NewCircle(presenceColour(u.presence)),
		name: widget.NewLabelWithStyle("Parley", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}
	p.name.Truncation = fyne.TextTruncateEllipsis
	p.presence = widget.NewSelect(presenceOptions, func(s string) {
		if !p.quiet {
			u.setPresence(presenceValue(s), u.status)
		}
	})
	p.status = newKeyEntry(u)
	p.status.SetPlaceHolder("Status message")
	p.status.OnSubmitted = func(text string) { u.setPresence(u.presence, text) }
	p.status.ActionItem = widget.NewButtonWithIcon("", theme.ConfirmIcon(), func() { u.setPresence(u.presence, p.status.Text) })
	dot := container.NewCenter(container.NewGridWrap(fyne.NewSize(12, 12), p.dot))
	p.obj = container.NewVBox(
		container.NewBorder(nil, nil, dot, nil, p.name),
		container.NewBorder(nil, nil, p.presence, nil, p.status))
	p.refresh()
	return p
}

func (p *profileView) object() fyne.CanvasObject { return p.obj }

// refresh shows the current own state.
func (p *profileView) refresh() {
	u := p.u
	name := u.self.Name
	if name == "" {
		name = "Parley"
	}
	p.name.SetText(name)
	p.dot.FillColor = presenceColour(u.presence)
	p.dot.Refresh()
	p.quiet = true
	p.presence.SetSelected(presenceLabel(u.presence))
	p.quiet = false
	if p.status.Text != u.status {
		p.status.SetText(u.status)
	}
}

func presenceValue(label string) string {
	switch label {
	case "Away":
		return node.PresenceAway
	case "Busy":
		return node.PresenceBusy
	}
	return node.PresenceAvailable
}

// setPresence publishes presence and status text; the selector shows the new state
// at once and goes back if the core refuses it.
func (u *ui) setPresence(presence, status string) {
	oldP, oldS := u.presence, u.status
	u.presence, u.status = presence, status
	u.profile.refresh()
	u.tray.update()
	background(u, func() (struct{}, error) { return struct{}{}, u.core.SetPresence(presence, status) },
		func(_ struct{}, err error) {
			if err == nil {
				return
			}
			u.showError("Changing presence", err)
			if u.presence == presence && u.status == status {
				u.presence, u.status = oldP, oldS
				u.profile.refresh()
				u.tray.update()
			}
		})
}
