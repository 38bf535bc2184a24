package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The data folder cannot be a setting inside itself, so a folder chosen in the
// settings is kept in a small per-user pointer file next to the default folder
// (os.UserConfigDir()/parley-data-folder). It is read at start; --data wins.

const pointerName = "parley-data-folder"

// pointerFile is the pointer's path ("" when the system has no config folder).
func pointerFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, pointerName)
}

// chosenDataDir picks the data folder at start: --data when given, else the
// folder the pointer names, else the default. A pointer that cannot be read is
// reported, not ignored: starting on the default folder instead would silently
// show another identity.
func chosenDataDir(flagValue string, flagSet bool) (string, error) {
	if flagSet {
		return flagValue, nil
	}
	p := pointerFile()
	if p == "" {
		return defaultDataDir(), nil
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return defaultDataDir(), nil
	}
	if err != nil {
		return "", fmt.Errorf("data folder chosen in the settings: %w", err)
	}
	dir := strings.TrimSpace(string(b))
	if dir == "" {
		return defaultDataDir(), nil
	}
	return dir, nil
}

// setDataDir checks that dir is a folder Parley can write to (creating it if
// needed) and makes it the data folder from the next start.
func setDataDir(dir string) error {
	dir = strings.TrimSpace(dir)
	if dir == "" {
		return errors.New("no folder given")
	}
	if strings.HasPrefix(dir, "~"+string(filepath.Separator)) {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, dir[2:])
		}
	}
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("%s: give the full path of the folder", dir)
	}
	dir = filepath.Clean(dir)
	if err := writable(dir); err != nil {
		return err
	}
	p := pointerFile()
	if p == "" {
		return errors.New("this system has no per-user configuration folder to remember the choice in")
	}
	if dir == defaultDataDir() {
		// Back to the default: no pointer needed.
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("forgetting the chosen data folder: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("remembering the data folder: %w", err)
	}
	// Written to a temporary file and renamed, so a crash never leaves half a path.
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(dir+"\n"), 0o600); err != nil {
		return fmt.Errorf("remembering the data folder: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("remembering the data folder: %w", err)
	}
	return nil
}

// writable creates dir if it is missing and proves it takes a file.
func writable(dir string) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("%s is a file, not a folder", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the folder %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".parley-write-test-*")
	if err != nil {
		return fmt.Errorf("cannot write in the folder %s: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("cannot write in the folder %s: %w", dir, err)
	}
	return nil
}
