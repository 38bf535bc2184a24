//go:build !(linux || freebsd || openbsd || netbsd)

package trayhost

// available: Windows and macOS always have a notification area.
func available() bool { return true }
