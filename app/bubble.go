package app

import (
	"hash/fnv"
	"image/color"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Bubble geometry. Text wraps at a fixed width so a bubble's height does not depend
// on the window's width and can be computed before the row is shown.
const (
	bubbleTextWidth float32 = 420
	bubblePadX      float32 = 10
	bubblePadY      float32 = 6
	bubbleGap       float32 = 2
	rowMarginX      float32 = 10
	rowMarginY      float32 = 3
)

type itemKind int

const (
	kindOlder itemKind = iota // "load older messages"
	kindDay                   // day separator
	kindMsg                   // message bubble
)

// bubble is what one message row shows.
type bubble struct {
	own   bool
	name  string   // author, shown for others' room messages
	lines []string // wrapped text
	meta  string   // time and delivery mark
	text  string   // original text (copy)
	// failed: an own message the core refused, which the menu offers to retry.
	failed bool
	// found: the message a search result opened, outlined.
	found bool
	// links: the text may hold a link (bubbletext.go draws them).
	links bool
	// file: the transfer ID of a file's timeline entry (filetimeline.go);
	// canOpen: the file is on disk, so Open and Show in folder work.
	file    string
	canOpen bool
}

func textHeight(size float32, bold bool) float32 {
	return fyne.MeasureText("Mg", size, fyne.TextStyle{Bold: bold}).Height
}

func textWidth(s string, size float32, bold bool) float32 {
	return fyne.MeasureText(s, size, fyne.TextStyle{Bold: bold}).Width
}

// bubbleHeight is the row height of a bubble.
func bubbleHeight(b bubble) float32 {
	h := 2*rowMarginY + 2*bubblePadY + float32(len(b.lines))*textHeight(theme.TextSize(), false) +
		bubbleGap + textHeight(theme.CaptionTextSize(), false)
	if b.name != "" {
		h += textHeight(theme.CaptionTextSize(), true) + bubbleGap
	}
	return h
}

func dayHeight() float32 { return textHeight(theme.CaptionTextSize(), true) + 4*theme.Padding() }

// wrapText breaks text into lines no wider than maxW (words first, then runes).
func wrapText(text string, maxW, size float32) []string {
	text = strings.ReplaceAll(text, "\t", "    ")
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for i, word := range strings.Split(para, " ") {
			cand := word
			if i > 0 {
				cand = line + " " + word
			}
			if textWidth(cand, size, false) <= maxW {
				line = cand
				continue
			}
			if line != "" {
				out = append(out, line)
			}
			for textWidth(word, size, false) > maxW {
				n := fitRunes(word, maxW, size)
				out = append(out, word[:n])
				word = word[n:]
			}
			line = word
		}
		out = append(out, line)
	}
	return out
}

// fitRunes is the byte length of the longest prefix of s (at least one rune) that
// fits in maxW.
func fitRunes(s string, maxW, size float32) int {
	lo, hi := 1, utf8.RuneCountInString(s)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if textWidth(string([]rune(s)[:mid]), size, false) <= maxW {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return len(string([]rune(s)[:lo]))
}

// nameColour gives each author a stable, readable colour.
func nameColour(id string) color.Color {
	palette := []color.NRGBA{{0xd0, 0x4a, 0x3a, 0xff}, {0x2f, 0x8f, 0x4e, 0xff}, {0x36, 0x6b, 0xd1, 0xff},
		{0xa8, 0x4f, 0xc0, 0xff}, {0xc0, 0x7a, 0x12, 0xff}, {0x1f, 0x93, 0x9a, 0xff}}
	h := fnv.New32a()
	h.Write([]byte(id))
	return palette[h.Sum32()%uint32(len(palette))]
}

// convRow is one row of the conversation list: a bubble, a day separator or the
// "load older messages" button.
type convRow struct {
	widget.BaseWidget
	kind   itemKind
	b      bubble
	id     string // the message's ID
	author string
	day    string
	older  *widget.Button
	retry  func(id string)
	// openLink and selectText are the window's (links.go); linkBoxes are
	// where the bubble's links are drawn, set by the renderer's layout.
	openLink, selectText func(string)
	linkBoxes            []linkBox
	// fileAction opens a file entry's file or its folder (filetimeline.go).
	fileAction func(id string, folder bool)
}

// linkBox is where a piece of a link is drawn in a row, and the whole link.
type linkBox struct {
	pos  fyne.Position
	size fyne.Size
	link string
}

func newConvRow(onOlder func(), onRetry func(id string), onLink, onSelect func(string)) *convRow {
	r := &convRow{older: widget.NewButton("Load older messages", onOlder), retry: onRetry,
		openLink: onLink, selectText: onSelect}
	r.older.Importance = widget.LowImportance
	r.ExtendBaseWidget(r)
	return r
}

func (r *convRow) setBubble(b bubble, id, author string) {
	r.kind, r.b, r.id, r.author = kindMsg, b, id, author
	r.Refresh()
}

func (r *convRow) setDay(label string) {
	r.kind, r.day = kindDay, label
	r.Refresh()
}

func (r *convRow) setOlder(loading bool) {
	r.kind = kindOlder
	if loading {
		r.older.SetText("Loading older messages…")
		r.older.Disable()
	} else {
		r.older.SetText("Load older messages")
		r.older.Enable()
	}
	r.Refresh()
}

// TappedSecondary offers to copy a message's text, and to send it again when
// it was not sent.
func (r *convRow) TappedSecondary(ev *fyne.PointEvent) {
	if r.kind != kindMsg {
		return
	}
	c := fyne.CurrentApp().Driver().CanvasForObject(r)
	if c == nil {
		return
	}
	// The row is recycled for other messages, so the menu keeps this one's.
	text, id := r.b.text, r.id
	var items []*fyne.MenuItem
	if file := r.b.file; file != "" && r.b.canOpen && r.fileAction != nil {
		items = append(items, fyne.NewMenuItem("Open", func() { r.fileAction(file, false) }),
			fyne.NewMenuItem("Show in folder", func() { r.fileAction(file, true) }))
	}
	if r.b.failed && r.retry != nil {
		items = append(items, fyne.NewMenuItem("Retry", func() { r.retry(id) }))
	}
	items = append(items, fyne.NewMenuItem("Copy text", func() {
		fyne.CurrentApp().Clipboard().SetContent(text)
	}))
	if r.selectText != nil {
		items = append(items, fyne.NewMenuItem("Select text…", func() { r.selectText(text) }))
	}
	if r.openLink != nil {
		for i, l := range links(text) {
			if i == maxLinkMenu {
				break
			}
			label := l
			if len(label) > 48 {
				label = label[:47] + "…"
			}
			items = append(items, fyne.NewMenuItem("Open "+label, func() { r.openLink(l) }))
		}
	}
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), c, ev.AbsolutePosition)
}

// Tapped opens the link under the pointer, if there is one.
func (r *convRow) Tapped(ev *fyne.PointEvent) {
	if r.kind == kindMsg && r.b.file != "" && r.b.canOpen && r.fileAction != nil {
		r.fileAction(r.b.file, false) // a file's entry opens the file
		return
	}
	if r.kind != kindMsg || r.openLink == nil {
		return
	}
	for _, b := range r.linkBoxes {
		p := ev.Position
		if p.X >= b.pos.X && p.X < b.pos.X+b.size.Width && p.Y >= b.pos.Y && p.Y < b.pos.Y+b.size.Height {
			r.openLink(b.link)
			return
		}
	}
}

// CreateRenderer implements fyne.Widget.
func (r *convRow) CreateRenderer() fyne.WidgetRenderer {
	rr := &convRowRenderer{r: r, bg: canvas.NewRectangle(color.Transparent),
		name: canvas.NewText("", color.Black), meta: canvas.NewText("", color.Black),
		dayText: canvas.NewText("", color.Black), ruleL: canvas.NewLine(color.Black), ruleR: canvas.NewLine(color.Black)}
	rr.bg.CornerRadius = 12
	rr.name.TextStyle.Bold = true
	rr.dayText.TextStyle.Bold = true
	rr.Refresh()
	return rr
}

type convRowRenderer struct {
	r              *convRow
	bg             *canvas.Rectangle
	name, meta     *canvas.Text
	lines          []*canvas.Text // a pool: one per piece of a line (segs)
	unders         []*canvas.Line // a pool: the links' underlines
	segs           []textSeg
	dayText        *canvas.Text
	ruleL, ruleR   *canvas.Line
	objects        []fyne.CanvasObject
	textColour     color.Color
	metaColour     color.Color
	bubbleW        float32
	lineH, captH   float32
	nameH          float32
	textSize, capt float32
}

func (rr *convRowRenderer) Destroy() {}

func (rr *convRowRenderer) Objects() []fyne.CanvasObject { return rr.objects }

func (rr *convRowRenderer) MinSize() fyne.Size {
	switch rr.r.kind {
	case kindOlder:
		return rr.r.older.MinSize().AddWidthHeight(0, 2*theme.Padding())
	case kindDay:
		return fyne.NewSize(0, dayHeight())
	}
	return fyne.NewSize(rr.bubbleW+2*rowMarginX, bubbleHeight(rr.r.b))
}

func (rr *convRowRenderer) Refresh() {
	r := rr.r
	rr.textSize, rr.capt = theme.TextSize(), theme.CaptionTextSize()
	rr.lineH, rr.captH = textHeight(rr.textSize, false), textHeight(rr.capt, false)
	rr.nameH = textHeight(rr.capt, true)
	switch r.kind {
	case kindOlder:
		rr.objects = []fyne.CanvasObject{r.older}
	case kindDay:
		col := theme.Color(theme.ColorNamePlaceHolder)
		rr.dayText.Text, rr.dayText.Color, rr.dayText.TextSize = r.day, col, rr.capt
		rr.ruleL.StrokeColor, rr.ruleR.StrokeColor = theme.Color(theme.ColorNameSeparator), theme.Color(theme.ColorNameSeparator)
		rr.dayText.Refresh()
		rr.objects = []fyne.CanvasObject{rr.ruleL, rr.ruleR, rr.dayText}
	default:
		rr.refreshBubble()
	}
	rr.Layout(r.Size())
	canvas.Refresh(r)
}

func (rr *convRowRenderer) refreshBubble() {
	b := rr.r.b
	if b.own {
		rr.bg.FillColor = theme.Color(theme.ColorNamePrimary)
		rr.bg.StrokeWidth = 0
		rr.textColour = theme.Color(theme.ColorNameForegroundOnPrimary)
		rr.metaColour = withAlpha(rr.textColour, 0xc0)
	} else {
		rr.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
		rr.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
		rr.bg.StrokeWidth = 1
		rr.textColour = theme.Color(theme.ColorNameForeground)
		rr.metaColour = theme.Color(theme.ColorNamePlaceHolder)
	}
	if b.found {
		rr.bg.StrokeColor = theme.Color(theme.ColorNameWarning)
		rr.bg.StrokeWidth = 3
	}
	rr.bg.Refresh()
	rr.objects = append(rr.objects[:0], rr.bg)
	w := rr.refreshLines(b)
	if b.name != "" {
		rr.name.Text, rr.name.Color, rr.name.TextSize = b.name, nameColour(rr.r.author), rr.capt
		rr.name.Refresh()
		w = max(w, rr.name.MinSize().Width)
		rr.objects = append(rr.objects, rr.name)
	}
	rr.meta.Text, rr.meta.Color, rr.meta.TextSize = b.meta, rr.metaColour, rr.capt
	rr.meta.Refresh()
	w = max(w, rr.meta.MinSize().Width)
	rr.objects = append(rr.objects, rr.meta)
	rr.bubbleW = w + 2*bubblePadX
}

func (rr *convRowRenderer) Layout(size fyne.Size) {
	switch rr.r.kind {
	case kindOlder:
		bs := rr.r.older.MinSize()
		rr.r.older.Resize(bs)
		rr.r.older.Move(fyne.NewPos((size.Width-bs.Width)/2, theme.Padding()))
	case kindDay:
		tw := rr.dayText.MinSize()
		x := (size.Width - tw.Width) / 2
		y := (size.Height - tw.Height) / 2
		rr.dayText.Move(fyne.NewPos(x, y))
		rr.dayText.Resize(tw)
		mid := size.Height / 2
		gap := theme.Padding() * 2
		rr.ruleL.Position1, rr.ruleL.Position2 = fyne.NewPos(rowMarginX, mid), fyne.NewPos(max(rowMarginX, x-gap), mid)
		rr.ruleR.Position1, rr.ruleR.Position2 = fyne.NewPos(min(size.Width-rowMarginX, x+tw.Width+gap), mid), fyne.NewPos(size.Width-rowMarginX, mid)
	default:
		rr.layoutBubble(size)
	}
}

func (rr *convRowRenderer) layoutBubble(size fyne.Size) {
	b := rr.r.b
	w := rr.bubbleW
	x := rowMarginX
	if b.own {
		x = size.Width - rowMarginX - w
	}
	h := size.Height - 2*rowMarginY
	rr.bg.Move(fyne.NewPos(x, rowMarginY))
	rr.bg.Resize(fyne.NewSize(w, h))
	y := rowMarginY + bubblePadY
	if b.name != "" {
		rr.name.Move(fyne.NewPos(x+bubblePadX, y))
		rr.name.Resize(rr.name.MinSize())
		y += rr.nameH + bubbleGap
	}
	rr.layoutLines(x+bubblePadX, y)
	y += float32(len(b.lines)) * rr.lineH
	ms := rr.meta.MinSize()
	rr.meta.Move(fyne.NewPos(x+w-bubblePadX-ms.Width, y+bubbleGap))
	rr.meta.Resize(ms)
}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

func padding() float32  { return theme.Padding() }
func textSize() float32 { return theme.TextSize() }
