//go:build linux || freebsd || openbsd || netbsd

package trayhost

import (
	"time"

	"github.com/godbus/dbus/v5"
)

// watcher is the D-Bus name of the StatusNotifier host registry: Fyne's tray
// icon (fyne.io/systray) registers with it, so without it no icon shows
// (GNOME without the AppIndicator extension, bare window managers, Xvfb).
const watcher = "org.kde.StatusNotifierWatcher"

// available asks the session bus whether the watcher is there. The call is
// bounded: a session bus that does not answer counts as no tray.
func available() bool {
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		return false
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return false
	}
	if err := conn.Hello(); err != nil {
		return false
	}
	var has bool
	done := make(chan error, 1)
	go func() {
		done <- conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, watcher).Store(&has)
	}()
	select {
	case err := <-done:
		return err == nil && has
	case <-time.After(2 * time.Second):
		return false
	}
}
