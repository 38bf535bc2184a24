package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// guestBadge is the small pill on a roster row of a hosted client: "guest" for
// a browser guest, "phone" for a SIP phone, each hosted by another peer (who,
// the details say).
type guestBadge struct {
	widget.BaseWidget
	bg   *canvas.Rectangle
	text *canvas.Text
}

func newGuestBadge() *guestBadge {
	b := &guestBadge{bg: canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground)),
		text: canvas.NewText("guest", theme.Color(theme.ColorNameForeground))}
	b.bg.CornerRadius = 7
	b.bg.StrokeWidth = 1
	b.bg.StrokeColor = theme.Color(theme.ColorNamePlaceHolder)
	b.text.TextSize = theme.CaptionTextSize()
	b.text.Alignment = fyne.TextAlignCenter
	b.ExtendBaseWidget(b)
	return b
}

// CreateRenderer implements fyne.Widget.
func (b *guestBadge) CreateRenderer() fyne.WidgetRenderer {
	pad := theme.Padding()
	min := b.text.MinSize().Add(fyne.NewSize(2*pad, pad))
	b.bg.SetMinSize(min)
	return widget.NewSimpleRenderer(
		// Centred in whatever height the row gives it, at its own size.
		container.NewCenter(container.NewStack(b.bg, container.NewCenter(b.text))))
}

// Refresh re-reads the theme colours.
func (b *guestBadge) Refresh() {
	b.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	b.bg.StrokeColor = theme.Color(theme.ColorNamePlaceHolder)
	b.text.Color = theme.Color(theme.ColorNameForeground)
	b.BaseWidget.Refresh()
}

// setKind shows the badge's word ("guest" or "phone").
func (b *guestBadge) setKind(word string) {
	if b.text.Text != word {
		b.text.Text = word
		b.text.Refresh()
	}
}

// hostedKind is the badge word of a hosted client ("" for an ordinary peer):
// the roster says guest or sip only when both the client's record and its
// host's agree (node/guestsrecord.go).
func hostedKind(p node.PeerView) string {
	switch {
	case p.SIP:
		return "phone"
	case p.Guest:
		return "guest"
	}
	return ""
}

// guestText explains a hosted client in its details: a browser or a SIP phone,
// and which peer hosts (and vouches for) it. "" for other peers.
func (u *ui) guestText(p node.PeerView) string {
	kind := hostedKind(p)
	if kind == "" {
		return ""
	}
	host := "another peer"
	switch {
	case p.Via == u.self.ID:
		host = "this computer"
	case p.Via != "":
		host = u.peerName(p.Via)
	}
	if kind == "phone" {
		return "SIP phone registered with " + host + ". Messages and calls reach it through its host."
	}
	return "Guest in a web browser, hosted by " + host + ". Messages, calls and files reach them through their host."
}
