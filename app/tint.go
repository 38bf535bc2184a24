package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// tint is a background in a theme colour made faint, redrawn on theme changes
// (a plain rectangle would keep the colour of the theme it was made in).
type tint struct {
	widget.BaseWidget
	name  fyne.ThemeColorName
	alpha uint8
}

func newTint(name fyne.ThemeColorName, alpha uint8) *tint {
	t := &tint{name: name, alpha: alpha}
	t.ExtendBaseWidget(t)
	return t
}

// SetColour switches to another theme colour.
func (t *tint) SetColour(name fyne.ThemeColorName, alpha uint8) {
	if name == t.name && alpha == t.alpha {
		return
	}
	t.name, t.alpha = name, alpha
	t.Refresh()
}

func (t *tint) CreateRenderer() fyne.WidgetRenderer {
	rect := canvas.NewRectangle(nil)
	r := &tintRenderer{t: t, rect: rect}
	r.Refresh()
	return r
}

type tintRenderer struct {
	t    *tint
	rect *canvas.Rectangle
}

func (r *tintRenderer) Layout(size fyne.Size)        { r.rect.Resize(size) }
func (r *tintRenderer) MinSize() fyne.Size           { return fyne.Size{} }
func (r *tintRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.rect} }
func (r *tintRenderer) Destroy()                     {}

func (r *tintRenderer) Refresh() {
	c := color.NRGBAModel.Convert(theme.Color(r.t.name)).(color.NRGBA)
	c.A = r.t.alpha
	r.rect.FillColor = c
	r.rect.Refresh()
}
