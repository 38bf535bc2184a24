package app

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Fyne 2.7 has no tooltips. A PopUp will not do: its overlay covers the whole
// window, so the button underneath would lose the hover at once and the next
// click would only close the tip. Instead the tip is drawn on a layer above
// the window content made of plain canvas objects, which take no input.

// tipDelay is how long the pointer rests on a button before its tip shows.
const tipDelay = 500 * time.Millisecond

// tipButton is a button that explains itself on hover, also while disabled
// (which is when the reason matters most).
type tipButton struct {
	widget.Button
	u        *ui
	tip      string
	hovering bool
	gen      int // bumps on every hover change, so a late timer does nothing
}

func newTipButton(u *ui, label string, icon fyne.Resource, tapped func()) *tipButton {
	b := &tipButton{u: u}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

// SetTip changes the explanation (also while it is shown).
func (b *tipButton) SetTip(s string) {
	b.tip = s
	if b.u.tips.owner == b {
		b.u.tips.show(b)
	}
}

// MouseIn starts the delay before the tip shows.
func (b *tipButton) MouseIn(e *desktop.MouseEvent) {
	b.Button.MouseIn(e)
	b.hovering = true
	b.gen++
	gen := b.gen
	time.AfterFunc(tipDelay, func() {
		b.u.do(func() {
			if b.hovering && b.gen == gen && b.Visible() {
				b.u.tips.show(b)
			}
		})
	})
}

// MouseOut hides the tip.
func (b *tipButton) MouseOut() {
	b.Button.MouseOut()
	b.hovering = false
	b.gen++
	b.u.tips.hide(b)
}

// Tapped hides the tip: the user knew what the button does.
func (b *tipButton) Tapped(e *fyne.PointEvent) {
	b.u.tips.hide(b)
	b.Button.Tapped(e)
}

// tipLayer draws the one tip shown at a time, above everything else.
type tipLayer struct {
	bg    *canvas.Rectangle
	text  *canvas.Text
	owner *tipButton // whose tip is shown, nil when none
	layer *fyne.Container
}

func newTipLayer() *tipLayer {
	t := &tipLayer{bg: canvas.NewRectangle(nil), text: canvas.NewText("", nil)}
	t.bg.CornerRadius = 4
	t.layer = container.NewWithoutLayout(t.bg, t.text)
	t.layer.Hide()
	return t
}

func (t *tipLayer) object() fyne.CanvasObject { return t.layer }

// show puts b's tip under b, kept inside the window.
func (t *tipLayer) show(b *tipButton) {
	if b.tip == "" {
		t.hide(b)
		return
	}
	t.owner = b
	pad := theme.Padding()
	t.text.Text = b.tip
	t.text.TextSize = theme.CaptionTextSize()
	t.text.Color = theme.Color(theme.ColorNameForeground)
	t.bg.FillColor = theme.Color(theme.ColorNameOverlayBackground)
	t.bg.StrokeColor = theme.Color(theme.ColorNameSeparator)
	t.bg.StrokeWidth = 1
	ts := t.text.MinSize()
	size := fyne.NewSize(ts.Width+4*pad, ts.Height+2*pad)
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b).AddXY(0, b.Size().Height+pad)
	if w := t.layer.Size().Width; w > 0 && pos.X+size.Width > w-pad {
		pos.X = max(pad, w-pad-size.Width)
	}
	t.bg.Move(pos)
	t.bg.Resize(size)
	t.text.Move(pos.AddXY(2*pad, pad))
	t.text.Resize(ts)
	t.layer.Show()
	t.layer.Refresh()
}

// hide removes b's tip (a tip of another button stays).
func (t *tipLayer) hide(b *tipButton) {
	if t.owner != b {
		return
	}
	t.owner = nil
	t.layer.Hide()
}
