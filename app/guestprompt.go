package app

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// The admission prompt is one dialog listing every waiting guest, not one
// dialog each: fyne's overlays are a stack, and hiding a dialog also removes
// every dialog opened above it, so a prompt answered elsewhere could take
// another guest's prompt (or the user's Settings) down with it.

// admissionPrompt is one waiting guest in the admission dialog.
type admissionPrompt struct {
	id            string
	seq           int // arrival order
	text          *widget.Label
	admit, refuse *widget.Button
}

// admissionDialog asks the user to admit or refuse the waiting guests.
type admissionDialog struct {
	rows *fyne.Container
	// gone replaces the rows when nobody is waiting any more but the dialog
	// cannot be hidden (another dialog is above it).
	gone *widget.Label
	dlg  dialog.Dialog
	seq  int
}

// onRequest shows a guest waiting for admission (the node is in "ask" mode
// and holds the guest's join until it is answered or times out).
func (g *guestDesk) onRequest(e guestRequest) {
	if g == nil || e.Guest == "" {
		return
	}
	if _, ok := g.prompts[e.Guest]; ok {
		return // asked again (a reload): it is still shown
	}
	name := guestName(e.Name, e.Guest)
	if g.ask == nil {
		g.openAdmissions()
	}
	g.ask.seq++
	p := &admissionPrompt{id: e.Guest, seq: g.ask.seq}
	// The name and address come from a browser: a Label shows them as text.
	p.text = widget.NewLabel(name + " asks to join as a guest" + fromText(e.From) + ".")
	p.text.Wrapping = fyne.TextWrapWord
	p.text.TextStyle.Bold = true
	p.admit = widget.NewButton("Admit", func() { g.answer(e.Guest, true) })
	p.admit.Importance = widget.HighImportance
	p.refuse = widget.NewButton("Refuse", func() { g.answer(e.Guest, false) })
	g.prompts[e.Guest] = p
	g.redrawAdmissions()
	if !g.u.focused {
		g.u.notify("Guest waiting", name+" asks to join as a guest")
	}
	g.reload() // the invite dialog lists the newcomer
}

// openAdmissions opens the (empty) admission dialog.
func (g *guestDesk) openAdmissions() {
	a := &admissionDialog{rows: container.NewVBox(), gone: widget.NewLabel("No one is waiting any more.")}
	a.gone.Hide()
	g.ask = a
	if g.u.win == nil {
		return
	}
	help := widget.NewLabel("A guest uses Parley in a web browser through this computer. " +
		"Everyone sees them as a peer hosted by you.")
	help.Wrapping = fyne.TextWrapWord
	// "Later", not "Cancel": closing (also with Escape) leaves the guests
	// waiting, to be answered in "Invite a guest" — a reflex must turn no one away.
	d := dialog.NewCustom("Guests ask to join", "Later", container.NewVBox(a.rows, a.gone, help), g.u.win)
	d.SetOnClosed(func() {
		if g.ask == a {
			g.ask = nil
			clear(g.prompts)
		}
	})
	d.Resize(fyne.NewSize(460, 220))
	a.dlg = d
	g.u.showDialog(d)
}

// redrawAdmissions lays out the waiting guests, oldest first.
func (g *guestDesk) redrawAdmissions() {
	a := g.ask
	if a == nil {
		return
	}
	ps := make([]*admissionPrompt, 0, len(g.prompts))
	for _, p := range g.prompts {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(x, y *admissionPrompt) int { return x.seq - y.seq })
	a.rows.RemoveAll()
	for _, p := range ps {
		a.rows.Add(container.NewBorder(nil, nil, nil,
			container.NewCenter(container.NewHBox(p.refuse, p.admit)), p.text))
	}
	a.rows.Refresh()
	if len(ps) == 0 {
		a.gone.Show()
	} else {
		a.gone.Hide()
	}
}

// closePrompt takes a guest out of the admission dialog (answered here or
// elsewhere, timed out, or gone); the dialog closes with its last guest.
func (g *guestDesk) closePrompt(id string) {
	if _, ok := g.prompts[id]; !ok {
		return
	}
	delete(g.prompts, id)
	g.redrawAdmissions()
	a := g.ask
	if len(g.prompts) > 0 || a == nil {
		return
	}
	if a.dlg == nil {
		g.ask = nil
		return
	}
	// Hiding it from under another dialog would close that one too: then
	// it stays, saying nobody waits, until the user closes it.
	if n := len(g.u.dialogs); n > 0 && g.u.dialogs[n-1] == a.dlg {
		a.dlg.Hide()
	}
}
