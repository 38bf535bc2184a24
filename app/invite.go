package app

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// inviteView is the "Invite a guest" dialog: the addresses a browser opens
// (QR code and text), the web certificate's fingerprint to compare with the
// browser's warning, and the hosted guests with Admit / Refuse / Remove.
type inviteView struct {
	g *guestDesk
	// urls are the guest web addresses, one card (QR code, text, Copy) each.
	urls  []string
	qrs   []*canvas.Image
	cards *fyne.Container
	// fingerprint is the web certificate's SHA-256 fingerprint.
	fingerprint *widget.Label
	guests      []guestView
	loaded      bool // the first guest list is in
	list        *fyne.Container
	rows        map[string]*inviteGuestRow // by guest ID, for tests
	obj         fyne.CanvasObject
	dlg         dialog.Dialog
}

// inviteGuestRow is one guest in the dialog.
type inviteGuestRow struct {
	name, state           *widget.Label
	admit, refuse, remove *widget.Button
}

// showInvite opens the invite dialog (or brings the open one forward).
func (g *guestDesk) showInvite() {
	if g == nil {
		return
	}
	if g.invite != nil && g.invite.dlg != nil {
		g.invite.dlg.Show()
		return
	}
	v := &inviteView{g: g, rows: map[string]*inviteGuestRow{}}
	g.invite = v
	v.build()
	type facts struct {
		urls   []string
		fp     string
		guests []guestView
	}
	background(g.u, func() (facts, error) {
		f := facts{fp: g.u.core.Self().WebFingerprint, guests: g.core.Guests()}
		if w, ok := g.u.core.(webURLsCore); ok {
			f.urls = w.WebURLs()
		}
		return f, nil
	}, func(f facts, _ error) {
		if g.invite != v {
			return // closed meanwhile
		}
		v.setURLs(f.urls)
		v.fingerprint.SetText(orDash(f.fp))
		v.setGuests(f.guests)
	})
	if g.u.win == nil {
		return
	}
	d := dialog.NewCustom("Invite a guest", "Close", v.obj, g.u.win)
	d.SetOnClosed(func() {
		if g.invite == v {
			g.invite = nil
		}
	})
	d.Resize(fyne.NewSize(640, 620))
	v.dlg = d
	g.u.showDialog(d)
}

func (v *inviteView) build() {
	how := widget.NewLabel("On a phone or laptop on this network, scan the code or open the address " +
		"in a web browser. Nothing to install: the guest chats, calls and shares files through this computer.")
	how.Wrapping = fyne.TextWrapWord
	v.cards = container.NewGridWrap(fyne.NewSize(qrSide+40, qrSide+90))
	v.fingerprint = widget.NewLabel("…")
	v.fingerprint.Selectable = true
	v.fingerprint.Wrapping = fyne.TextWrapBreak
	v.fingerprint.TextStyle.Monospace = true
	fpHelp := widget.NewLabel("The browser warns once that it does not know this site's certificate. " +
		"Before going on, check that its SHA-256 fingerprint is this one:")
	fpHelp.Wrapping = fyne.TextWrapWord
	fpHelp.SizeName = theme.SizeNameCaptionText
	v.list = container.NewVBox(widget.NewLabel("…"))
	heading := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	// The guests before the fingerprint: the list changes, the fingerprint
	// is read once per browser.
	v.obj = container.NewVScroll(container.NewVBox(how, v.cards,
		heading("Guests"), v.list, widget.NewSeparator(),
		heading("Certificate fingerprint"), fpHelp, v.fingerprint))
}

// setURLs shows one card per address: QR code, selectable text, Copy.
func (v *inviteView) setURLs(urls []string) {
	v.urls, v.qrs = urls, nil
	v.cards.RemoveAll()
	if len(urls) == 0 {
		off := widget.NewLabel("The guest web server is off (--web off), or this computer has no network address: no browser can join.")
		off.Wrapping = fyne.TextWrapWord
		off.Importance = widget.WarningImportance
		v.cards.Layout = layout.NewVBoxLayout()
		v.cards.Add(off)
		return
	}
	for _, u := range urls {
		text := widget.NewLabel(u)
		text.Selectable = true
		text.Alignment = fyne.TextAlignCenter
		text.Wrapping = fyne.TextWrapBreak
		copyURL := widget.NewButton("Copy", func() { fyne.CurrentApp().Clipboard().SetContent(u) })
		var code fyne.CanvasObject = widget.NewLabel("(no QR code)")
		if img, err := qrImage(u); err == nil {
			v.qrs = append(v.qrs, img)
			code = img
		}
		v.cards.Add(container.NewVBox(container.NewCenter(code), text, container.NewCenter(copyURL)))
	}
	v.cards.Refresh()
}

// setGuests shows the hosted guests: waiting ones first, then by name.
func (v *inviteView) setGuests(list []guestView) {
	v.guests = slices.Clone(list)
	slices.SortStableFunc(v.guests, func(a, b guestView) int {
		if (a.State == guestPending) != (b.State == guestPending) {
			if a.State == guestPending {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	v.loaded = true
	v.redraw()
}

// redraw rebuilds the guest rows (a handful at most: 32 guests per host).
func (v *inviteView) redraw() {
	if !v.loaded {
		return
	}
	g := v.g
	v.list.RemoveAll()
	clear(v.rows)
	if len(v.guests) == 0 {
		none := widget.NewLabel("No guests yet.")
		none.Importance = widget.LowImportance
		v.list.Add(none)
	}
	for _, gv := range v.guests {
		id := gv.ID
		r := &inviteGuestRow{name: widget.NewLabelWithStyle(guestName(gv.Name, id), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			state: widget.NewLabel(guestStateText(gv))}
		r.name.Truncation = fyne.TextTruncateEllipsis
		r.state.Truncation = fyne.TextTruncateEllipsis
		var buttons []fyne.CanvasObject
		if gv.State == guestPending {
			r.admit = widget.NewButton("Admit", func() { g.answer(id, true) })
			r.admit.Importance = widget.HighImportance
			r.refuse = widget.NewButton("Refuse", func() { g.answer(id, false) })
			buttons = append(buttons, r.refuse, r.admit)
		} else {
			r.remove = widget.NewButton("Remove", func() { g.remove(id) })
			buttons = append(buttons, r.remove)
		}
		if g.busy[id] {
			for _, b := range buttons {
				b.(*widget.Button).Disable()
			}
		}
		v.rows[id] = r
		texts := container.New(layout.NewCustomPaddedVBoxLayout(-theme.Padding()*2), r.name, r.state)
		v.list.Add(container.NewBorder(nil, nil, nil, container.NewCenter(container.NewHBox(buttons...)), texts))
	}
	v.list.Refresh()
}

// guestStateText says where a guest stands, and from which address.
func guestStateText(v guestView) string {
	var s string
	switch {
	case v.State == guestPending:
		s = "Waiting to be admitted"
	case v.Connected:
		s = "Admitted, connected"
	default:
		s = "Admitted, browser closed"
	}
	return s + fromText(v.From)
}
