package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ringCard is the incoming call: a band across the top of the window with the
// caller and big Answer and Decline buttons. It is not a dialog, so it does
// not take the keyboard from someone typing, and Escape (which closes
// dialogs) cannot decline a call by accident.
type ringCard struct {
	u       *ui
	bg      *tint
	title   *widget.Label
	detail  *widget.Label
	answer  *widget.Button
	decline *widget.Button
	obj     *fyne.Container
}

func newRingCard(u *ui) *ringCard {
	r := &ringCard{u: u, bg: newTint(theme.ColorNameSuccess, 0x38),
		title:  widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		detail: widget.NewLabel(""),
	}
	r.title.SizeName = theme.SizeNameHeadingText
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.detail.Wrapping = fyne.TextWrapWord
	r.answer = widget.NewButtonWithIcon("Answer", callIcon, func() { u.answer() })
	r.answer.Importance = widget.SuccessImportance
	r.decline = widget.NewButtonWithIcon("Decline", hangupIcon, func() { u.decline() })
	r.decline.Importance = widget.DangerImportance
	// Caption size, but the normal text colour: the faint one vanishes on the tint.
	hint := widget.NewLabel("Ctrl+Shift+A answers · Ctrl+D declines")
	hint.SizeName = theme.SizeNameCaptionText
	hint.Alignment = fyne.TextAlignCenter
	icon := widget.NewIcon(callIcon)
	buttons := container.NewVBox(layout.NewSpacer(),
		container.NewGridWithColumns(2, r.decline, r.answer), hint, layout.NewSpacer())
	text := container.New(layout.NewCustomPaddedVBoxLayout(0), r.title, r.detail)
	row := container.NewBorder(nil, nil, container.NewCenter(container.NewGridWrap(fyne.NewSize(40, 40), icon)),
		buttons, text)
	r.obj = container.NewStack(r.bg, container.NewPadded(row))
	r.obj.Hide()
	return r
}

func (r *ringCard) object() fyne.CanvasObject { return r.obj }

// refresh shows the card while a call rings here, and hides it otherwise.
func (r *ringCard) refresh() {
	s := r.u.call
	if s == nil || s.state != callIncoming {
		r.obj.Hide()
		return
	}
	caller := s.peers[0]
	r.title.SetText(r.u.callName(s, caller) + " is calling")
	detail := "Voice call"
	if s.urgent {
		r.title.SetText("URGENT: " + r.u.callName(s, caller) + " is calling")
		detail = "Urgent voice call"
	}
	if s.group() {
		var others []string
		for _, p := range s.peers[1:] {
			others = append(others, r.u.callName(s, p))
		}
		detail = "Group call with " + joinNames(append(others, "you"))
	}
	if s.relay != "" {
		detail += " · relayed via " + r.u.callName(s, s.relay) + " (no direct path between you)"
	}
	if s.answering {
		detail += " · one moment…"
		r.answer.Disable()
		r.decline.Disable()
	} else {
		r.answer.Enable()
		r.decline.Enable()
	}
	r.detail.SetText(detail)
	r.obj.Show()
	r.u.callBandChanged("ring")
}
