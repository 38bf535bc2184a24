package app

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// firstRunCore is optional: a core that knows whether a display name was ever
// chosen and which one to suggest. Without it the window never asks.
type firstRunCore interface {
	NameChosen() bool
	SuggestedName() string
}

var _ firstRunCore = (*node.Node)(nil)

// firstRunLine is the one line that says what choosing a name means: what a
// peer record carries (name, presence and status, addresses) and how far it
// goes (this network, or the team on it).
const firstRunLine = "Everyone on this network will see this name, your status and this computer's network addresses."

// firstRun asks for a display name when none was chosen yet, offering the
// operating system user's full name (the host name stands in until then).
// "Later" keeps the stand-in and asks again at the next start.
func (u *ui) firstRun() {
	fc, ok := u.core.(firstRunCore)
	if !ok || u.win == nil {
		return
	}
	type answer struct {
		chosen    bool
		suggested string
	}
	background(u, func() (answer, error) { return answer{fc.NameChosen(), fc.SuggestedName()}, nil },
		func(a answer, _ error) {
			if !a.chosen {
				u.askName(a.suggested)
			}
		})
}

func (u *ui) askName(suggested string) {
	name := newKeyEntry(u)
	name.SetText(strings.TrimSpace(suggested))
	name.SetPlaceHolder("Your name")
	name.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return errors.New("the name cannot be empty")
		}
		return nil
	}
	line := widget.NewLabel(firstRunLine)
	line.Wrapping = fyne.TextWrapWord
	items := []*widget.FormItem{widget.NewFormItem("Your name", name), widget.NewFormItem("", line)}
	d := dialog.NewForm("Welcome to Parley", "Continue", "Later", items, func(ok bool) {
		if ok {
			u.setName(strings.TrimSpace(name.Text))
		}
	}, u.win)
	name.OnSubmitted = func(string) { d.Submit() }
	d.Resize(fyne.NewSize(520, 240))
	u.showDialog(d)
	u.win.Canvas().Focus(name)
}
