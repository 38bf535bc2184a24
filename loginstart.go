package main

import (
	"fmt"
	"os"
	"path/filepath"

	"parley/app"
	"parley/internal/autostart"
)

// loginEntry is what starts Parley at login: this executable (resolved, so a
// symlink that moves later still works) and the data folder when --data chose
// it, as the window running now would otherwise start on the default one.
func loginEntry(dataDir string, dataByFlag bool) (autostart.Entry, error) {
	exe, err := os.Executable()
	if err != nil {
		return autostart.Entry{}, fmt.Errorf("finding this program: %w", err)
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	args := []string{exe}
	if dataByFlag {
		if abs, err := filepath.Abs(dataDir); err == nil {
			dataDir = abs
		}
		args = append(args, "--data", dataDir)
	}
	return autostart.Entry{ID: app.AppID, Name: "Parley", Icon: app.AppID,
		Comment: "Chat, calls and files with the people on your network", Exec: args}, nil
}

// setStartAtLogin writes or removes the login entry (Settings → Start-up);
// nil where the system's login start is not implemented, so the window does
// not offer it.
func setStartAtLogin(dataDir string, dataByFlag bool) func(on bool) error {
	if !autostart.Supported() {
		return nil
	}
	return func(on bool) error {
		if !on {
			return autostart.Disable(app.AppID)
		}
		e, err := loginEntry(dataDir, dataByFlag)
		if err != nil {
			return err
		}
		return autostart.Enable(e)
	}
}
