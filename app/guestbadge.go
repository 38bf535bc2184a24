package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// guestBadge is the small "guest" pill on a roster row: the peer is a browser
// guest, hosted by another peer (who, the details say).
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

// guestOf tells whether a peer is a browser guest and which peer hosts it.
func guestOf(p node.PeerView) (guest bool, via string) { return p.Guest, p.Via }

// guestText explains a guest peer in its details: a browser, and which peer
// hosts (and vouches for) it. "" for other peers.
func (u *ui) guestText(p node.PeerView) string {
	guest, via := guestOf(p)
	if !guest {
		return ""
	}
	host := "another peer"
	switch {
	case via == u.self.ID:
		host = "this computer"
	case via != "":
		host = u.peerName(via)
	}
	return "Guest in a web browser, hosted by " + host + ". Messages, calls and files reach them through their host."
}
