package app

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// trayMenu is the system tray menu: own status, unread count, presence switches.
type trayMenu struct {
	u      *ui
	desk   desktop.App // nil when there is no tray (tests, some desktops)
	menu   *fyne.Menu
	status *fyne.MenuItem
	unread *fyne.MenuItem
	choose map[string]*fyne.MenuItem
}

func newTrayMenu(u *ui, desk desktop.App, show func()) *trayMenu {
	t := &trayMenu{u: u, desk: desk, choose: map[string]*fyne.MenuItem{}}
	t.status = fyne.NewMenuItem("", show)
	t.unread = fyne.NewMenuItem("", show)
	items := []*fyne.MenuItem{t.status, t.unread, fyne.NewMenuItemSeparator(), fyne.NewMenuItem("Show Parley", show),
		fyne.NewMenuItemSeparator()}
	for _, p := range []string{"available", "away", "busy"} {
		item := fyne.NewMenuItem(presenceLabel(p), func() { u.setPresence(p, u.status) })
		t.choose[p] = item
		items = append(items, item)
	}
	t.menu = fyne.NewMenu("Parley", items...)
	return t
}

// update rewrites the labels and hands the menu to the tray again.
func (t *trayMenu) update() {
	if t == nil {
		return
	}
	name := t.u.self.Name
	if name == "" {
		name = "Parley"
	}
	t.status.Label = name + " — " + presenceLabel(t.u.presence)
	switch n := t.u.totalUnread(); n {
	case 0:
		t.unread.Label = "No unread messages"
	case 1:
		t.unread.Label = "1 unread message"
	default:
		t.unread.Label = fmt.Sprintf("%d unread messages", n)
	}
	for p, item := range t.choose {
		item.Checked = p == t.u.presence
	}
	if t.desk != nil {
		t.desk.SetSystemTrayMenu(t.menu)
	}
}
