// Package trayhost tells whether the desktop shows tray icons, so that a
// closed window may hide into the tray only where the user can get it back.
package trayhost

// Available reports whether a system tray (notification area) is there now.
func Available() bool { return available() }
