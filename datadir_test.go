package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// userConfig points os.UserConfigDir at a fresh folder (Linux reads
// $XDG_CONFIG_HOME first).
func userConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	t.Setenv("APPDATA", dir) // os.UserConfigDir on Windows
	return dir
}

func TestChosenDataFolderAppliesAtStart(t *testing.T) {
	cfg := userConfig(t)
	// The platform's default, inside the isolated config folder (Linux:
	// XDG_CONFIG_HOME/parley; Windows: APPDATA\Parley).
	def := defaultDataDir()
	if !strings.HasPrefix(def, cfg) {
		t.Fatalf("default %q is outside the test's config folder %q", def, cfg)
	}
	if got, err := chosenDataDir(def, false); err != nil || got != def {
		t.Fatalf("nothing chosen: %q, %v; want the default %q", got, err, def)
	}
	chosen := filepath.Join(t.TempDir(), "elsewhere", "parley")
	if err := setDataDir(chosen); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(chosen); err != nil {
		t.Errorf("the chosen folder was not created: %v", err)
	}
	// The next start without --data uses it; --data still wins.
	if got, err := chosenDataDir(def, false); err != nil || got != chosen {
		t.Errorf("next start: %q, %v; want %q", got, err, chosen)
	}
	if got, _ := chosenDataDir("/flag/dir", true); got != "/flag/dir" {
		t.Errorf("--data lost to the setting: %q", got)
	}
	// Choosing the default again forgets the pointer.
	if err := setDataDir(def); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pointerFile()); !os.IsNotExist(err) {
		t.Errorf("the pointer is still there: %v", err)
	}
	if got, _ := chosenDataDir(def, false); got != def {
		t.Errorf("back to the default: %q", got)
	}
}

func TestSetDataDirRefusesUnusableFolders(t *testing.T) {
	userConfig(t)
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"":                         "no folder",
		"relative/dir":             "full path",
		file:                       "is a file",
		filepath.Join(file, "sub"): "cannot create",
	}
	// Root writes anywhere, and Windows ignores a folder's mode.
	if os.Geteuid() != 0 && runtime.GOOS != "windows" {
		ro := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		cases[ro] = "cannot write"
	}
	for dir, want := range cases {
		err := setDataDir(dir)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error saying %q", dir, err, want)
		}
	}
	if _, err := os.Stat(pointerFile()); !os.IsNotExist(err) {
		t.Errorf("a refused folder was remembered: %v", err)
	}
}
