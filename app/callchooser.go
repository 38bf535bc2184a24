package app

import (
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// callChooser asks whom to call when more of a room's members are online than
// one call holds. The first maxCallOthers (best reachable first) are ticked.
type callChooser struct {
	u      *ui
	ids    map[string]string // option label → peer ID
	labels []string          // options in order
	picks  *widget.CheckGroup
	note   *widget.Label
	call   *widget.Button
	dlg    *dialog.CustomDialog
}

func (u *ui) chooseCallees(room string, online []node.PeerView) {
	c := &callChooser{u: u, ids: map[string]string{}}
	for _, p := range online {
		label := u.peerName(p.ID)
		if _, dup := c.ids[label]; dup { // two peers with one name: tell them apart
			label += " (" + shortID(p.ID) + ")"
		}
		c.ids[label] = p.ID
		c.labels = append(c.labels, label)
	}
	intro := widget.NewLabel(fmt.Sprintf("%d members of #%s are online, but a call holds you and %d others. "+
		"Choose whom to call:", len(online), u.roomName(room), maxCallOthers))
	intro.Wrapping = fyne.TextWrapWord
	c.note = widget.NewLabel("")
	c.note.Importance = widget.LowImportance
	c.picks = widget.NewCheckGroup(c.labels, nil)
	c.picks.Selected = slices.Clone(c.labels[:maxCallOthers])
	c.picks.OnChanged = c.changed
	c.call = widget.NewButtonWithIcon("Call", callIcon, c.confirm)
	c.call.Importance = widget.HighImportance
	c.changed(c.picks.Selected)
	if u.win == nil {
		return
	}
	cancel := widget.NewButton("Cancel", func() { c.dlg.Hide() })
	content := container.NewBorder(intro, c.note, nil, nil, container.NewVScroll(c.picks))
	c.dlg = dialog.NewCustomWithoutButtons("Call #"+u.roomName(room), content, u.win)
	c.dlg.SetButtons([]fyne.CanvasObject{cancel, c.call})
	c.dlg.Resize(fyne.NewSize(480, 420))
	u.showDialog(c.dlg)
}

// changed keeps the choice within what a call holds.
func (c *callChooser) changed(sel []string) {
	if len(sel) > maxCallOthers {
		c.picks.Selected = sel[:maxCallOthers]
		c.picks.Refresh()
		c.note.SetText(fmt.Sprintf("At most %d — untick someone first.", maxCallOthers))
		return
	}
	c.note.SetText(fmt.Sprintf("%d of %d chosen", len(sel), maxCallOthers))
	if len(sel) == 0 {
		c.call.Disable()
	} else {
		c.call.Enable()
	}
}

// confirm calls the ticked members, in the list's order.
func (c *callChooser) confirm() {
	var ids []string
	for _, l := range c.labels {
		if slices.Contains(c.picks.Selected, l) {
			ids = append(ids, c.ids[l])
		}
	}
	if c.dlg != nil {
		c.dlg.Hide()
	}
	c.u.placeCall(ids)
}
