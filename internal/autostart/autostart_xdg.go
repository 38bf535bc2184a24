//go:build !windows && !darwin

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// dir is the XDG autostart folder: $XDG_CONFIG_HOME/autostart, where
// XDG_CONFIG_HOME defaults to ~/.config and counts only when absolute (the
// XDG base directory spec ignores a relative one).
func dir() (string, error) {
	if c := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(c) {
		return filepath.Join(c, "autostart"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("autostart: no home folder: %w", err)
	}
	return filepath.Join(home, ".config", "autostart"), nil
}

func path(id string) (string, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || id[0] == '.' {
		return "", fmt.Errorf("autostart: bad ID %q", id)
	}
	d, err := dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, id+".desktop"), nil
}

// enabled: an entry exists and is not switched off. Desktops switch an entry
// off by adding Hidden=true (the spec) or X-GNOME-Autostart-enabled=false to a
// copy in the user's folder, so both are read.
func enabled(id string) (bool, error) {
	p, err := path(id)
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("autostart: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch strings.TrimSpace(k) {
		case "Hidden":
			if strings.TrimSpace(v) == "true" {
				return false, nil
			}
		case "X-GNOME-Autostart-enabled":
			if strings.TrimSpace(v) == "false" {
				return false, nil
			}
		}
	}
	return true, nil
}

func enable(e Entry) error {
	p, err := path(e.ID)
	if err != nil {
		return err
	}
	if len(e.Exec) == 0 {
		return errors.New("autostart: no command")
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	// Written beside and renamed over, so a crash never leaves half an entry
	// that the desktop would run.
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(desktopFile(e)), 0o644); err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("autostart: %w", err)
	}
	return nil
}

func disable(id string) error {
	p, err := path(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("autostart: %w", err)
	}
	return nil
}

// desktopFile is the autostart entry (Desktop Entry Specification 1.5).
func desktopFile(e Entry) string {
	args := make([]string, len(e.Exec))
	for i, a := range e.Exec {
		args[i] = execArg(a)
	}
	var b strings.Builder
	b.WriteString("[Desktop Entry]\nType=Application\n")
	fmt.Fprintf(&b, "Name=%s\n", oneLine(e.Name))
	if e.Comment != "" {
		fmt.Fprintf(&b, "Comment=%s\n", oneLine(e.Comment))
	}
	if e.Icon != "" {
		fmt.Fprintf(&b, "Icon=%s\n", oneLine(e.Icon))
	}
	fmt.Fprintf(&b, "Exec=%s\n", strings.Join(args, " "))
	b.WriteString("Terminal=false\nX-GNOME-Autostart-enabled=true\n")
	return b.String()
}

// execArg quotes one argument of the Exec key. The spec quotes an argument
// holding a space, tab, newline or one of "'\><~|&;$*?#()` in double quotes
// and escapes ", `, $ and \ inside them with a backslash; a literal % is
// written %%. Then the whole value is a desktop-file string, whose own escape
// character is the backslash too, so every backslash is doubled once more.
func execArg(a string) string {
	a = strings.ReplaceAll(a, "%", "%%")
	if a != "" && !strings.ContainsAny(a, " \t\n\"'\\><~|&;$*?#()`=") {
		return a
	}
	var q strings.Builder
	q.WriteByte('"')
	for _, r := range a {
		switch r {
		case '"', '`', '$', '\\':
			q.WriteByte('\\')
		case '\n':
			q.WriteString(`\n`) // a desktop-file escape: a newline cannot stand in a value
			continue
		}
		q.WriteRune(r)
	}
	q.WriteByte('"')
	return strings.ReplaceAll(q.String(), `\`, `\\`)
}

// oneLine keeps a string value on its line.
func oneLine(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
}

const supported = true
