//go:build !windows

package main

import (
	"os"
	"path/filepath"
)

// defaultDataDir is ~/.config/parley on Linux (os.UserConfigDir), ~/Library/
// Application Support/parley on macOS.
func defaultDataDir() string {
	if dir, err := os.UserConfigDir(); err == nil {
		return filepath.Join(dir, "parley")
	}
	return ".parley"
}

// defaultDownloads is the user's Downloads folder (XDG user dirs; see
// userDownloads). main gives it to the window's own instance only: others
// (--data, headless: the tests' nodes) keep DATA/downloads, so several
// instances on one machine never share a folder.
func defaultDownloads() string { return userDownloads() }
