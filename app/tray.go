package app

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// trayMenu is the system tray menu: own status, unread count, the call in
// progress with its answer or hang-up action, presence switches.
type trayMenu struct {
	u      *ui
	desk   desktop.App // nil when there is no tray (tests, some desktops)
	menu   *fyne.Menu
	status *fyne.MenuItem
	unread *fyne.MenuItem
	urgent *fyne.MenuItem // "N urgent items to acknowledge", only while some wait
	call   *fyne.MenuItem // "In call with …", only during a call
	answer *fyne.MenuItem // only while a call rings here
	hangup *fyne.MenuItem // "Hang up" or "Decline", only during a call
	rest   []*fyne.MenuItem
	quit   *fyne.MenuItem // ends Parley (the node says goodbye); IsQuit, so Fyne adds no second one
	choose map[string]*fyne.MenuItem
	icons  trayIcons
	shown  fyne.Resource // the tray icon last set (nil before the first update)
}

func newTrayMenu(u *ui, desk desktop.App, icons trayIcons) *trayMenu {
	show := u.showWindow // background.go
	t := &trayMenu{u: u, desk: desk, choose: map[string]*fyne.MenuItem{}, icons: icons}
	t.status = fyne.NewMenuItem("", show)
	t.unread = fyne.NewMenuItem("", show)
	t.urgent = fyne.NewMenuItem("", show)
	t.call = fyne.NewMenuItem("", show)
	t.answer = fyne.NewMenuItem("Answer", func() { u.answer(); show() })
	t.hangup = fyne.NewMenuItem("Hang up", func() { u.hangup() })
	t.rest = []*fyne.MenuItem{fyne.NewMenuItemSeparator(), fyne.NewMenuItem("Show Parley", show),
		fyne.NewMenuItemSeparator()}
	for _, p := range []string{"available", "away", "busy"} {
		item := fyne.NewMenuItem(presenceLabel(p), func() { u.setPresence(p, u.status) })
		t.choose[p] = item
		t.rest = append(t.rest, item)
	}
	t.quit = fyne.NewMenuItem("Quit Parley", func() { u.quit() })
	t.quit.IsQuit = true
	t.rest = append(t.rest, fyne.NewMenuItemSeparator(), t.quit)
	t.menu = fyne.NewMenu("Parley")
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
	t.menu.Items = []*fyne.MenuItem{t.status, t.unread}
	if n := len(t.u.urg.in); n > 0 { // urgent.go
		t.urgent.Label = fmt.Sprintf("⚠ %d urgent to acknowledge", n)
		t.menu.Items = append(t.menu.Items, t.urgent)
	}
	t.menu.Items = append(t.menu.Items, t.callItems()...)
	t.menu.Items = append(t.menu.Items, t.rest...)
	icon := t.icons.plain
	if t.u.totalUnread() > 0 || len(t.u.urg.in) > 0 {
		icon = t.icons.unread
	}
	if t.desk != nil {
		t.desk.SetSystemTrayMenu(t.menu)
		if icon != t.shown && icon != nil {
			t.desk.SetSystemTrayIcon(icon)
		}
	}
	t.shown = icon
}

// callItems are the tray lines of the call in progress (none without one).
func (t *trayMenu) callItems() []*fyne.MenuItem {
	s := t.u.call
	if s == nil {
		return nil
	}
	who := t.u.callWho(s)
	switch s.state {
	case callIncoming:
		t.call.Label = t.u.callName(s, s.peers[0]) + " is calling"
		t.hangup.Label = "Decline"
		return []*fyne.MenuItem{fyne.NewMenuItemSeparator(), t.call, t.answer, t.hangup}
	case callActive:
		t.call.Label = "In call with " + who
		if s.muted {
			t.call.Label += " (muted)"
		}
	case callConnecting:
		t.call.Label = "Connecting to " + who + "…"
	default:
		t.call.Label = "Calling " + who + "…"
	}
	t.hangup.Label = "Hang up"
	return []*fyne.MenuItem{fyne.NewMenuItemSeparator(), t.call, t.hangup}
}
