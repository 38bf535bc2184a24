package app

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// TestFirstScreenTextStyles: everything the window builds at start, hidden parts
// too, draws its text in the regular or the bold style only. Fyne 2.7.1 gives
// every text style its own faces (internal/painter/font.go lookupFaces): the
// theme's font, a system font for the locale and its own parse of the 4 MB
// bundled emoji font — about 7 MB of heap and 40 ms each (docs/benchmarks.md,
// Desktop window; cmd/benchgui re-measures it). Hidden parts count because
// Fyne lays out and measures hidden containers when a parent is refreshed
// (the hidden call bar's monospace clock did, on every start). Bold is the
// buttons' own style; anything more waits until it is shown (details, invite).
func TestFirstScreenTextStyles(t *testing.T) {
	n := urgentTestNode(t, "Here")
	test.NewTempApp(t)
	h := newHarnessFor(t, nodeCore{n, newFakeCore()})
	seen := map[fyne.TextStyle]string{}
	var texts int
	walkAll(h.win.Content(), func(o fyne.CanvasObject) {
		if tx, ok := o.(*canvas.Text); ok {
			texts++
			if _, ok := seen[tx.TextStyle]; !ok {
				seen[tx.TextStyle] = tx.Text
			}
		}
	})
	if texts < 20 {
		t.Fatalf("found %d texts: the walk does not reach the window's text", texts)
	}
	regular, bold := fyne.TextStyle{}, fyne.TextStyle{Bold: true}
	if _, ok := seen[bold]; !ok {
		t.Errorf("no bold text found (the buttons are bold): the walk misses widgets")
	}
	for style, text := range seen {
		if style != regular && style != bold {
			t.Errorf("text %q in style %+v: a third set of faces (and emoji font) at every start", text, style)
		}
	}
}

// walkAll visits every object under o, hidden ones too, widgets through their
// renderers.
func walkAll(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	if o == nil {
		return
	}
	fn(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walkAll(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walkAll(c, fn)
		}
	}
}

// refreshProbe counts the refreshes that reach it.
type refreshProbe struct {
	widget.BaseWidget
	n int
}

func (p *refreshProbe) Refresh() { p.n++ }
func (p *refreshProbe) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(canvas.NewRectangle(nil))
}

// TestEmptyAlarmBandLeavesWindow: the urgent items' first load at start (none
// pending) leaves the window alone; a refresh of the whole window there laid out
// and measured every part of it before the first frame. An item still redraws it.
func TestEmptyAlarmBandLeavesWindow(t *testing.T) {
	h := newHarness(t, newFakeCore())
	probe := &refreshProbe{}
	probe.ExtendBaseWidget(probe)
	h.u.main.Objects = append(h.u.main.Objects, probe)
	h.u.urgentChanged(false)
	if probe.n != 0 {
		t.Errorf("an empty band refreshed the window %d times", probe.n)
	}
	h.u.addIncoming(node.UrgentItem{ID: "u1", From: mkID("alice"), Name: "Alice", Text: "fire drill"})
	h.u.urgentChanged(false)
	if probe.n == 0 {
		t.Error("a card came and the window was not refreshed (the probe sees nothing)")
	}
}
