package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// keyEntry is a one-line entry that passes the window-wide shortcuts (Ctrl+K, …) on
// to the window: a focused widget.Entry would otherwise swallow them.
type keyEntry struct {
	widget.Entry
	u *ui
}

func newKeyEntry(u *ui) *keyEntry {
	e := &keyEntry{u: u}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey closes the open dialog on Escape.
func (e *keyEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.u != nil && e.u.escape() {
		return
	}
	e.Entry.TypedKey(k)
}

// TypedShortcut implements fyne.Shortcutable.
func (e *keyEntry) TypedShortcut(s fyne.Shortcut) {
	if e.u != nil && e.u.shortcut(s) {
		return
	}
	e.Entry.TypedShortcut(s)
}
