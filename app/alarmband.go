package app

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// alarmBand is the top of the window while urgent items wait: a red card per
// item received and not acknowledged (who raised it, how sure we are it is
// them, the text, when) with an Acknowledge button, and a card per item this
// node sent with who acknowledged it and when. Like the ring card it is not a
// dialog: Escape, pressed by reflex, cannot dismiss an alarm, and it does not
// take the keyboard from someone typing.
type alarmBand struct {
	u     *ui
	box   *fyne.Container
	cards map[string]*alarmCard // by item ID, the cards shown
}

// alarmCard is one item's card; the buttons are kept for the tests.
type alarmCard struct {
	title, detail, text *widget.Label
	ack, cancel         *widget.Button
	obj                 fyne.CanvasObject
}

// maxIncomingCards and maxCards bound the band's height: beyond them a line
// says how many more wait (the core caps a flood at 6 a minute per sender, but
// 60 a minute from everyone together would push the window off the screen).
// Four cards of about 90 px leave the conversation room in the 650 px window
// (TestUrgentScreenshot shows three). Items received come first; the cards of
// items sent fill what is left, at least one. Acknowledging a card brings the
// next one up.
const (
	maxIncomingCards = 3
	maxCards         = 4
)

func newAlarmBand(u *ui) *alarmBand {
	b := &alarmBand{u: u, box: container.NewVBox(), cards: map[string]*alarmCard{}}
	b.box.Hide()
	return b
}

func (b *alarmBand) object() fyne.CanvasObject { return b.box }

// refresh rebuilds the cards from the window's urgent state.
func (b *alarmBand) refresh() {
	if b == nil {
		return
	}
	u := b.u
	if len(b.cards) == 0 && len(b.box.Objects) == 0 && len(u.urg.in) == 0 && len(u.urg.out) == 0 {
		// Empty before and after, as at every start without urgent items: the
		// refresh of the whole window below would lay out and measure every
		// part of it, hidden ones too, before the first frame (about 20 ms of
		// the start on the benchmark's window; TestEmptyAlarmBandLeavesWindow).
		return
	}
	clear(b.cards)
	var objs []fyne.CanvasObject
	for i, it := range u.urg.in {
		if i == maxIncomingCards {
			objs = append(objs, b.more(len(u.urg.in)-i, "urgent items wait below these — acknowledge to see them"))
			break
		}
		c := b.incomingCard(it)
		b.cards[it.ID] = c
		objs = append(objs, c.obj)
	}
	maxOut := max(1, maxCards-min(len(u.urg.in), maxIncomingCards))
	for i, it := range u.urg.out {
		if i == maxOut {
			objs = append(objs, b.more(len(u.urg.out)-i, "more of your urgent items wait"))
			break
		}
		c := b.outgoingCard(it)
		b.cards[it.ID] = c
		objs = append(objs, c.obj)
	}
	b.box.Objects = objs
	if len(objs) == 0 {
		b.box.Hide()
	} else {
		b.box.Show()
	}
	b.box.Refresh()
	if u.main != nil {
		u.main.Refresh() // the band's height changed
	}
}

func (b *alarmBand) more(n int, what string) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(fmt.Sprintf("+ %d %s", n, what), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	l.Importance = widget.DangerImportance
	return l
}

// incomingCard: "URGENT — Alice" or "ALERT TO EVERYONE — Alice", with whether
// Alice's key is verified and its short fingerprint, as anyone can call
// themselves Alice.
func (b *alarmBand) incomingCard(it node.UrgentItem) *alarmCard {
	u := b.u
	kind := "URGENT"
	if it.Alert {
		kind = "ALERT TO EVERYONE"
	}
	c := b.card(kind+" — "+u.urgentName(it.From, it.Name), it.Text)
	where := "to you"
	switch {
	case it.Alert:
		where = "to everyone on the network"
		if u.self.Team != "" {
			where = "to everyone in the team"
		}
	case it.Room != "":
		where = "in #" + u.roomName(it.Room)
	}
	c.detail.SetText(u.senderTrust(it.From) + " · " + where + " · " + u.urgentTime(it.Sent))
	c.ack = widget.NewButtonWithIcon("Acknowledge", theme.ConfirmIcon(), func() { u.ack(it.ID) })
	c.ack.Importance = widget.DangerImportance
	if u.urg.acking[it.ID] {
		c.ack.Disable()
	}
	c.obj = b.layout(c, c.ack)
	return c
}

// outgoingCard: what this node sent, who acknowledged it, a Cancel while
// someone has not (Dismiss once everyone has).
func (b *alarmBand) outgoingCard(it node.UrgentItem) *alarmCard {
	u := b.u
	var to string
	switch {
	case it.Alert:
		to = "Your alert to everyone"
	case it.Room != "":
		to = "Your urgent message to #" + u.roomName(it.Room)
	default:
		var names []string
		for _, p := range it.To {
			names = append(names, u.urgentName(p, ""))
		}
		to = "Your urgent message to " + joinNames(names)
	}
	c := b.card(to, it.Text)
	c.detail.SetText(u.ackSummary(it))
	waiting := it.Alert || slices.ContainsFunc(it.To, func(p string) bool { _, ok := it.Acked[p]; return !ok })
	id := it.ID
	if waiting {
		c.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { u.cancelUrgent(id) })
	} else {
		c.cancel = widget.NewButtonWithIcon("Dismiss", theme.ConfirmIcon(), func() { u.dismissUrgent(id) })
	}
	c.obj = b.layout(c, c.cancel)
	return c
}

func (b *alarmBand) card(title, text string) *alarmCard {
	c := &alarmCard{
		title:  widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		detail: widget.NewLabel(""),
		text:   widget.NewLabel(text),
	}
	c.title.SizeName = theme.SizeNameSubHeadingText
	c.title.Truncation = fyne.TextTruncateEllipsis
	c.detail.Wrapping = fyne.TextWrapWord
	c.detail.SizeName = theme.SizeNameCaptionText
	c.text.Wrapping = fyne.TextWrapWord
	c.text.TextStyle.Bold = true
	return c
}

// layout puts a card together: red for an item received, amber for one sent.
func (b *alarmBand) layout(c *alarmCard, button *widget.Button) fyne.CanvasObject {
	colour, alpha := theme.ColorNameWarning, uint8(0x30)
	if c.ack != nil {
		colour, alpha = theme.ColorNameError, 0x48
	}
	icon := widget.NewIcon(theme.WarningIcon())
	text := container.New(layout.NewCustomPaddedVBoxLayout(0), c.title, c.text, c.detail)
	row := container.NewBorder(nil, nil,
		container.NewCenter(container.NewGridWrap(fyne.NewSize(32, 32), icon)),
		container.NewVBox(layout.NewSpacer(), button, layout.NewSpacer()), text)
	// Less padding than NewPadded: a stack of cards must not take the window.
	pad := container.New(layout.NewCustomPaddedLayout(2, 2, 8, 8), row)
	return container.NewStack(newTint(colour, alpha), pad)
}

// senderTrust says how sure the window is of who sent an item: the core
// checked the signature of the key, so what is left is whether the key is
// the person's — verified (safety numbers compared) or not — and its short
// fingerprint to compare by voice.
func (u *ui) senderTrust(id string) string {
	p, ok := u.peers[id]
	fp := ""
	if ok && p.Fingerprint != "" {
		fp = strings.Join(strings.Fields(p.Fingerprint)[:min(2, len(strings.Fields(p.Fingerprint)))], " ")
	}
	s := "not verified"
	if ok && p.Verified {
		s = "✓ verified"
	}
	if fp != "" {
		return s + " · fingerprint " + fp + "…"
	}
	return s + " · key " + shortID(id)
}

// urgentTime is when an item was sent: the time today, the date before.
func (u *ui) urgentTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.Local()
	if t.Format(time.DateOnly) == u.now().Format(time.DateOnly) {
		return "sent " + t.Format("15:04:05")
	}
	return "sent " + t.Format("2 Jan 15:04")
}

// ackSummary is who acknowledged a sent item and when, and who not yet.
func (u *ui) ackSummary(it node.UrgentItem) string {
	type ack struct {
		who string
		at  time.Time
	}
	var acks []ack
	for p, at := range it.Acked {
		acks = append(acks, ack{u.urgentName(p, ""), at})
	}
	slices.SortFunc(acks, func(a, b ack) int { return a.at.Compare(b.at) })
	var parts []string
	for _, a := range acks {
		parts = append(parts, a.who+" at "+a.at.Local().Format("15:04:05"))
	}
	var waiting []string
	for _, p := range it.To {
		if _, ok := it.Acked[p]; !ok {
			waiting = append(waiting, u.urgentName(p, ""))
		}
	}
	s := u.urgentTime(it.Sent)
	switch {
	case len(parts) == 0 && it.Alert:
		s += " · nobody has acknowledged yet"
	case len(parts) > 0:
		s += " · acknowledged by " + strings.Join(parts, ", ")
	}
	if len(waiting) > 0 {
		s += " · waiting for " + joinNames(waiting)
	}
	return s
}
