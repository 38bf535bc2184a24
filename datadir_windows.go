package main

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// defaultDataDir is %APPDATA%\Parley (os.UserConfigDir is %AppData%, the roaming
// profile folder Windows programs keep their settings in).
func defaultDataDir() string {
	if dir, err := os.UserConfigDir(); err == nil {
		return filepath.Join(dir, "Parley")
	}
	return "Parley"
}

// defaultDownloads is the user's Downloads folder (the known folder, which the
// user may have moved), where Windows users look for received files; "" (the
// node's DATA\downloads) when Windows does not name one.
func defaultDownloads() string {
	dir, err := windows.KnownFolderPath(windows.FOLDERID_Downloads, 0)
	if err != nil {
		return ""
	}
	return dir
}
