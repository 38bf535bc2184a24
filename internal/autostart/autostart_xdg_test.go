//go:build !windows && !darwin

package autostart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestXDGEntry(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	const id = "app.parley.desktop"
	if on, err := Enabled(id); err != nil || on {
		t.Fatalf("before: enabled %v, %v", on, err)
	}
	e := Entry{ID: id, Name: "Parley", Comment: "Chat on the local network", Icon: id,
		Exec: []string{"/opt/My Apps/parley", "--data", `/home/a"b/$x\y`, "50%"}}
	if err := Enable(e); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfg, "autostart", id+".desktop")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no entry at %s: %v", path, err)
	}
	text := string(b)
	for _, want := range []string{
		"[Desktop Entry]\n", "Type=Application\n", "Name=Parley\n", "Icon=app.parley.desktop\n",
		// Quoted where the spec asks, the quote and $ escaped, then every
		// backslash doubled as a string value's escape; % doubled.
		`Exec="/opt/My Apps/parley" --data "/home/a\\"b/\\$x\\\\y" 50%%` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("entry lacks %q:\n%s", want, text)
		}
	}
	if on, err := Enabled(id); err != nil || !on {
		t.Fatalf("after Enable: enabled %v, %v", on, err)
	}
	// A desktop that switches the entry off in place.
	if err := os.WriteFile(path, append(b, "Hidden=true\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if on, _ := Enabled(id); on {
		t.Error("Hidden=true still counts as enabled")
	}
	if err := Disable(id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("entry still there after Disable: %v", err)
	}
	if err := Disable(id); err != nil {
		t.Fatalf("disabling twice: %v", err)
	}
}

// A relative XDG_CONFIG_HOME is ignored (XDG base directory spec): ~/.config.
func TestXDGRelativeConfigHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "relative/dir")
	if err := Enable(Entry{ID: "x.desktop.test", Name: "X", Exec: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "autostart", "x.desktop.test.desktop")); err != nil {
		t.Fatal(err)
	}
}

func TestXDGBadID(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, id := range []string{"", "../evil", ".hidden", `a\b`} {
		if err := Enable(Entry{ID: id, Name: "X", Exec: []string{"x"}}); err == nil {
			t.Errorf("ID %q accepted", id)
		}
	}
}
