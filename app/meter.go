package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// levelMeter is a small bar that fills with the loudness of the audio that
// arrives: the quickest proof that the other side is heard.
type levelMeter struct {
	widget.BaseWidget
	level float64 // 0–1, already scaled for display (meterLevel)
}

func newLevelMeter() *levelMeter {
	m := &levelMeter{}
	m.ExtendBaseWidget(m)
	return m
}

// SetLevel shows a new level.
func (m *levelMeter) SetLevel(l float64) {
	if l == m.level {
		return
	}
	m.level = l
	m.Refresh()
}

func (m *levelMeter) CreateRenderer() fyne.WidgetRenderer {
	r := &meterRenderer{m: m, track: canvas.NewRectangle(nil), fill: canvas.NewRectangle(nil)}
	r.track.CornerRadius, r.fill.CornerRadius = 3, 3
	r.Refresh()
	return r
}

type meterRenderer struct {
	m           *levelMeter
	track, fill *canvas.Rectangle
}

func (r *meterRenderer) Layout(size fyne.Size) {
	r.track.Resize(size)
	r.fill.Resize(fyne.NewSize(size.Width*float32(r.m.level), size.Height))
}

func (r *meterRenderer) MinSize() fyne.Size { return fyne.NewSize(48, 8) }

// Refresh also runs on a theme change, so the colours follow the theme.
func (r *meterRenderer) Refresh() {
	r.track.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.fill.FillColor = presenceColour(node.PresenceAvailable)
	r.Layout(r.m.Size())
	r.track.Refresh()
	r.fill.Refresh()
}

func (r *meterRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.track, r.fill} }
func (r *meterRenderer) Destroy()                     {}
