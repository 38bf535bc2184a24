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

// defaultDownloads is "" here: the node puts accepted files in DATA/downloads, so
// several instances on one machine (and the tests' nodes) never share a folder.
func defaultDownloads() string { return "" }
