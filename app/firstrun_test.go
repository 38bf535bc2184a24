package app

import (
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// firstRunFake is the fake core on a first run: no name chosen yet.
type firstRunFake struct {
	*fakeCore
	chosen bool
	asked  atomic.Int32
}

func (f *firstRunFake) NameChosen() bool { return f.chosen }
func (f *firstRunFake) SuggestedName() string {
	defer f.asked.Add(1)
	return "Ada Lovelace"
}

func (h *harness) entryWithText(text string) *keyEntry {
	var found *keyEntry
	h.everything(func(o fyne.CanvasObject) {
		if e, ok := o.(*keyEntry); ok && e.Text == text {
			found = e
		}
	})
	return found
}

// The first run asks for a name, offering the OS user's full name, says in
// one line what others see, and Continue sets it.
func TestFirstRunAsksForAName(t *testing.T) {
	test.NewTempApp(t)
	ff := &firstRunFake{fakeCore: fivePeers()}
	h := newHarnessFor(t, ff)
	h.waitFor("the welcome", func() bool { return len(h.labelsContaining("Everyone on this network will see")) == 1 })
	e := h.entryWithText("Ada Lovelace")
	if e == nil {
		t.Fatal("the name is not offered")
	}
	if h.win.Canvas().Focused() != e {
		t.Error("the name box does not have the keyboard")
	}
	e.SetText("")
	test.Type(e, "Ada L.")
	e.TypedKey(enter())
	h.waitFor("the new name", func() bool { return h.u.self.Name == "Ada L." })
	if got := h.fc.Self().Name; got != "Ada L." {
		t.Errorf("the core's name is %q", got)
	}
	if len(h.labelsContaining("Everyone on this network will see")) != 0 {
		t.Error("the welcome stayed")
	}
}

// "Later" keeps the stand-in name; a name chosen before is not asked for.
func TestFirstRunLaterAndChosen(t *testing.T) {
	test.NewTempApp(t)
	ff := &firstRunFake{fakeCore: fivePeers()}
	h := newHarnessFor(t, ff)
	h.waitFor("the welcome", func() bool { return h.button("Later") != nil })
	test.Tap(h.button("Later"))
	h.pump()
	if h.u.self.Name != "Me" || h.fc.Self().Name != "Me" {
		t.Errorf("Later renamed to %q / %q", h.u.self.Name, h.fc.Self().Name)
	}

	ff2 := &firstRunFake{fakeCore: fivePeers(), chosen: true}
	h2 := newHarnessFor(t, ff2)
	h2.waitFor("the core asked", func() bool { return ff2.asked.Load() > 0 })
	time.Sleep(20 * time.Millisecond) // the answer is queued as SuggestedName returns
	h2.pump()
	var shown bool
	h2.everything(func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Text == firstRunLine {
			shown = true
		}
	})
	if shown {
		t.Error("asked for a name that was chosen")
	}
}
