package app

import (
	"image/color"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// Presence colours: green, amber, red, grey.
var presenceColours = map[string]color.Color{
	node.PresenceAvailable: color.NRGBA{R: 0x2e, G: 0xb8, B: 0x4b, A: 0xff},
	node.PresenceAway:      color.NRGBA{R: 0xf5, G: 0xa6, B: 0x23, A: 0xff},
	node.PresenceBusy:      color.NRGBA{R: 0xe0, G: 0x38, B: 0x3e, A: 0xff},
	node.PresenceOffline:   color.NRGBA{R: 0x8e, G: 0x8e, B: 0x8e, A: 0xff},
}

func presenceColour(p string) color.Color {
	if c, ok := presenceColours[p]; ok {
		return c
	}
	return presenceColours[node.PresenceOffline]
}

// presenceLabel is a presence as people read it.
func presenceLabel(p string) string {
	switch p {
	case node.PresenceAvailable:
		return "Available"
	case node.PresenceAway:
		return "Away"
	case node.PresenceBusy:
		return "Busy"
	}
	return "Offline"
}

// listRow is one row of the roster or the rooms list: presence dot, title, subtitle,
// warning mark and unread badge.
type listRow struct {
	widget.BaseWidget
	dot       *canvas.Circle
	title     *widget.Label
	subtitle  *subtleLabel
	warn      *widget.Icon // a known name with another key
	verified  *widget.Icon
	badge     *fyne.Container
	badgeBg   *canvas.Rectangle
	badgeText *canvas.Text
	guest     *guestBadge     // a browser guest hosted by some peer (guestbadge.go)
	right     *fyne.Container // the marks: guest, verified, warning, unread
	content   fyne.CanvasObject
}

func newListRow() *listRow {
	r := &listRow{
		dot:      canvas.NewCircle(presenceColour(node.PresenceOffline)),
		title:    widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		subtitle: newSubtleLabel(theme.SizeNameCaptionText),
		warn:     widget.NewIcon(keyWarningIcon()),
		verified: widget.NewIcon(verifiedIcon),
		guest:    newGuestBadge(),
	}
	r.verified.Hide()
	r.guest.Hide()
	r.dot.Resize(fyne.NewSize(12, 12))
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.warn.Hide()
	r.badgeBg = canvas.NewRectangle(theme.Color(theme.ColorNamePrimary))
	r.badgeBg.CornerRadius = 9
	r.badgeBg.SetMinSize(fyne.NewSize(22, 18))
	r.badgeText = canvas.NewText("", theme.Color(theme.ColorNameForegroundOnPrimary))
	r.badgeText.TextSize = theme.CaptionTextSize()
	r.badgeText.TextStyle.Bold = true
	r.badgeText.Alignment = fyne.TextAlignCenter
	r.badge = container.NewStack(r.badgeBg, container.NewCenter(r.badgeText))
	r.badge.Hide()
	dotBox := container.NewGridWrap(fyne.NewSize(12, 12), r.dot)
	texts := container.New(layout.NewCustomPaddedVBoxLayout(-theme.Padding()*2), r.title, r.subtitle)
	r.right = container.NewHBox(r.guest, r.verified, r.warn, container.NewCenter(r.badge))
	r.content = container.NewBorder(nil, nil, container.NewCenter(dotBox), r.right, texts)
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer implements fyne.Widget.
func (r *listRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.content) }

// Refresh re-reads the theme colours (light/dark may change at run time).
func (r *listRow) Refresh() {
	r.badgeBg.FillColor = theme.Color(theme.ColorNamePrimary)
	r.badgeText.Color = theme.Color(theme.ColorNameForegroundOnPrimary)
	r.badgeBg.Refresh()
	r.badgeText.Refresh()
	r.BaseWidget.Refresh()
}

// set shows one entry; dot is a presence ("" hides the dot).
func (r *listRow) set(dot, title, subtitle string, warn bool, unread int) {
	if dot == "" {
		r.dot.Hide()
	} else {
		r.dot.Show()
		r.dot.FillColor = presenceColour(dot)
		r.dot.Refresh()
	}
	r.title.SetText(title)
	r.subtitle.SetText(subtitle)
	r.showMark(r.warn, warn)
	if unread > 0 {
		r.badgeText.Text = strconv.Itoa(unread)
		if unread > 99 {
			r.badgeText.Text = "99+"
		}
		r.badge.Show()
		r.Refresh()
	} else {
		r.badge.Hide()
	}
}

// setTrust shows the verified mark, and greys out a blocked peer's name.
func (r *listRow) setTrust(verified, blocked bool) {
	r.showMark(r.verified, verified)
	importance := widget.MediumImportance
	if blocked {
		importance = widget.LowImportance
	}
	if r.title.Importance != importance {
		r.title.Importance = importance
		r.title.Refresh()
	}
}

// showMark shows or hides one of the marks on the right. A recycled row may
// gain a mark after its last layout, and a container makes no room for a
// child shown since, so the marks are laid out again on a change.
func (r *listRow) showMark(o fyne.CanvasObject, on bool) {
	if o.Visible() == on {
		return
	}
	if on {
		o.Show()
	} else {
		o.Hide()
	}
	r.content.(*fyne.Container).Refresh()
}

// subtleLabel is a one-line, truncated label in the placeholder colour, for
// secondary text (status lines, topics).
type subtleLabel struct {
	widget.RichText
	Text string
}

func newSubtleLabel(size fyne.ThemeSizeName) *subtleLabel {
	l := &subtleLabel{}
	l.Segments = []widget.RichTextSegment{&widget.TextSegment{Style: widget.RichTextStyle{
		ColorName: theme.ColorNamePlaceHolder, SizeName: size, Inline: true}}}
	l.Truncation = fyne.TextTruncateEllipsis
	l.Scroll = container.ScrollNone
	l.ExtendBaseWidget(l)
	return l
}

// SetText changes the text.
func (l *subtleLabel) SetText(s string) {
	if s == l.Text {
		return
	}
	l.Text = s
	l.Segments[0].(*widget.TextSegment).Text = s
	l.Refresh()
}
