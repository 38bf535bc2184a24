// Package autostart starts Parley when the user logs in: an XDG autostart entry
// on Linux and the other free desktops (autostart_xdg.go), a value under the
// user's Run key on Windows (autostart_windows.go). Only the current user is
// touched; nothing needs administrator rights.
package autostart

// Entry is what to start: an application ID (the autostart entry's file name or
// the Run key's value name) and the command line.
type Entry struct {
	ID      string   // e.g. "app.parley.desktop"
	Name    string   // shown by the desktop's list of start-up programs
	Comment string   // one line about it
	Icon    string   // icon name (XDG) — the app ID, installed by the package
	Exec    []string // the program and its arguments
}

// Supported says whether this system's login start is implemented (XDG
// desktops and Windows; not macOS).
func Supported() bool { return supported }

// Enabled reports whether the entry with this ID starts at login.
func Enabled(id string) (bool, error) { return enabled(id) }

// Enable makes e start at login, replacing an older entry of the same ID (the
// program may have moved since).
func Enable(e Entry) error { return enable(e) }

// Disable stops the entry with this ID from starting at login; no entry is not
// an error.
func Disable(id string) error { return disable(id) }
