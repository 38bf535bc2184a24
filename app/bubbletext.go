package app

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
)

// A bubble's lines are drawn as pieces: plain text, and links in the link
// colour, underlined, each where the text before it ends on its line.

// textSeg is one drawn piece of a bubble's text.
type textSeg struct {
	t     *canvas.Text
	line  int
	x     float32 // from the start of the line
	link  string  // the whole link this piece belongs to ("" for plain text)
	under *canvas.Line
}

// refreshLines fills rr.segs from the bubble's lines and returns the widest
// line's width.
func (rr *convRowRenderer) refreshLines(b bubble) float32 {
	rr.segs = rr.segs[:0]
	used, unders := 0, 0
	piece := func(line int, x float32, s, link string) float32 {
		if used == len(rr.lines) {
			rr.lines = append(rr.lines, canvas.NewText("", rr.textColour))
		}
		t := rr.lines[used]
		used++
		t.Text, t.Color, t.TextSize = s, rr.textColour, rr.textSize
		seg := textSeg{t: t, line: line, x: x, link: link}
		if link != "" {
			if !b.own {
				t.Color = theme.Color(theme.ColorNameHyperlink)
			}
			if unders == len(rr.unders) {
				rr.unders = append(rr.unders, canvas.NewLine(t.Color))
			}
			seg.under = rr.unders[unders]
			unders++
			seg.under.StrokeColor, seg.under.StrokeWidth = t.Color, 1
			seg.under.Refresh()
		}
		t.Refresh()
		rr.segs = append(rr.segs, seg)
		rr.objects = append(rr.objects, t)
		if seg.under != nil {
			rr.objects = append(rr.objects, seg.under)
		}
		return t.MinSize().Width
	}
	w := float32(0)
	inLink := false // the line before ended inside a link that wrapText broke
	for i, l := range b.lines {
		var spans [][2]int
		if b.links {
			spans = linkSpans(l)
			if inLink && l != "" && (len(spans) == 0 || spans[0][0] > 0) {
				// The rest of a broken link runs to the first space.
				end := strings.IndexAny(l, " \t")
				if end < 0 {
					end = len(l)
				}
				if len(spans) == 0 || spans[0][0] >= end {
					spans = append([][2]int{{0, end}}, spans...)
				}
			}
		}
		x, pos := float32(0), 0
		for _, sp := range spans {
			if sp[0] > pos {
				x += piece(i, x, l[pos:sp[0]], "")
			}
			x += piece(i, x, l[sp[0]:sp[1]], linkAt(b.text, l[sp[0]:sp[1]]))
			pos = sp[1]
		}
		if pos < len(l) || len(spans) == 0 {
			x += piece(i, x, l[pos:], "")
		}
		inLink = len(spans) > 0 && spans[len(spans)-1][1] == len(l)
		w = max(w, x)
	}
	return w
}

// layoutLines places the pieces with the text's top left at (x, y), and
// records where the links are for Tapped.
func (rr *convRowRenderer) layoutLines(x, y float32) {
	rr.r.linkBoxes = rr.r.linkBoxes[:0]
	for _, s := range rr.segs {
		size := fyne.NewSize(s.t.MinSize().Width, rr.lineH)
		pos := fyne.NewPos(x+s.x, y+float32(s.line)*rr.lineH)
		s.t.Move(pos)
		s.t.Resize(size)
		if s.link == "" {
			continue
		}
		base := pos.Y + rr.lineH - 2
		s.under.Position1, s.under.Position2 = fyne.NewPos(pos.X, base), fyne.NewPos(pos.X+size.Width, base)
		rr.r.linkBoxes = append(rr.r.linkBoxes, linkBox{pos: pos, size: size, link: s.link})
	}
}
