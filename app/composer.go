package app

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// composer is the message entry: Enter (or Ctrl+Enter) sends, Shift+Enter starts a
// new line, Tab moves the focus on.
type composer struct {
	widget.Entry
	u      *ui
	shift  bool
	onSend func(text string)
	// onUrgent sends the text as an urgent message (Ctrl+Shift+Enter); nil
	// when the core has no urgent messages.
	onUrgent func(text string)
}

func newComposer(u *ui, onSend func(string)) *composer {
	c := &composer{u: u, onSend: onSend}
	c.MultiLine = true
	c.Wrapping = fyne.TextWrapWord
	c.SetMinRowsVisible(2)
	c.ExtendBaseWidget(c)
	return c
}

// AcceptsTab keeps Tab for focus navigation.
func (c *composer) AcceptsTab() bool { return false }

// KeyDown tracks Shift (desktop.Keyable).
func (c *composer) KeyDown(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		c.shift = true
	}
	c.Entry.KeyDown(k)
}

// KeyUp tracks Shift (desktop.Keyable).
func (c *composer) KeyUp(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		c.shift = false
	}
	c.Entry.KeyUp(k)
}

// TypedKey sends on Enter; Shift+Enter falls through to the entry, which inserts a
// newline (OnSubmitted is never set, so the entry never submits by itself).
func (c *composer) TypedKey(k *fyne.KeyEvent) {
	if (k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter) && !c.shift {
		c.send()
		return
	}
	if k.Name == fyne.KeyEscape && c.u != nil && c.u.escape() {
		return
	}
	c.Entry.TypedKey(k)
}

// TypedShortcut sends on Ctrl+Enter, sends urgent on Ctrl+Shift+Enter and
// passes window shortcuts on.
func (c *composer) TypedShortcut(s fyne.Shortcut) {
	if cs, ok := s.(*desktop.CustomShortcut); ok && (cs.KeyName == fyne.KeyReturn || cs.KeyName == fyne.KeyEnter) &&
		cs.Modifier&(fyne.KeyModifierControl|fyne.KeyModifierSuper) != 0 {
		if cs.Modifier&fyne.KeyModifierShift != 0 && c.onUrgent != nil {
			c.sendWith(c.onUrgent)
			return
		}
		c.send()
		return
	}
	if c.u != nil && c.u.shortcut(s) {
		return
	}
	c.Entry.TypedShortcut(s)
}

// send hands the text over and clears the entry; blank text is not sent.
func (c *composer) send() { c.sendWith(c.onSend) }

func (c *composer) sendWith(to func(string)) {
	text := c.Text
	if isBlank(text) || to == nil {
		return
	}
	c.SetText("")
	to(text)
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }
