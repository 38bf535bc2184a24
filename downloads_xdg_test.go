//go:build !windows

package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestXDGDownloadDir(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_DOWNLOAD_DIR=\"$HOME/Téléchargements\"\n", "/home/ada/Téléchargements"},
		{"XDG_DOWNLOAD_DIR=\"/srv/incoming/\"", "/srv/incoming"},
		{"XDG_DOWNLOAD_DIR=\"$HOME/\"", ""},                     // disabled
		{"XDG_DOWNLOAD_DIR=\"$HOMEWORK/x\"", ""},                // not $HOME
		{"XDG_DOWNLOAD_DIR=\"relative/dir\"", ""},               // not absolute
		{"XDG_DOWNLOAD_DIR=$HOME/Downloads", ""},                // unquoted
		{"XDG_DOWNLOAD_DIR=\"$HOME/a/../../etc\"", "/home/etc"}, // cleaned, still absolute
		{"XDG_MUSIC_DIR=\"$HOME/Music\"", ""},
		{"", ""},
	} {
		got := xdgDownloadDir(bufio.NewScanner(strings.NewReader(tc.file)), "/home/ada")
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.file, got, tc.want)
		}
	}
}

func TestUserDownloads(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	if got := userDownloads(); got != filepath.Join(home, "Downloads") {
		t.Errorf("without user-dirs.dirs: %q", got)
	}
	os.MkdirAll(filepath.Join(home, ".config"), 0o700)
	os.WriteFile(filepath.Join(home, ".config", "user-dirs.dirs"), []byte("XDG_DOWNLOAD_DIR=\"$HOME/Descargas\"\n"), 0o600)
	if got := userDownloads(); got != filepath.Join(home, "Descargas") {
		t.Errorf("with user-dirs.dirs: %q", got)
	}
}

func TestUserInstance(t *testing.T) {
	userConfig(t)
	def := defaultDataDir()
	for _, tc := range []struct {
		dir    string
		byFlag bool
		want   bool
	}{
		{def, false, true},
		{"/elsewhere/chosen", false, true}, // chosen in the settings
		{def + "/", true, true},            // make run: --data ~/.config/parley
		{"/tmp/node-a", true, false},       // another instance
	} {
		if got := userInstance(tc.dir, tc.byFlag); got != tc.want {
			t.Errorf("userInstance(%q, %v) = %v", tc.dir, tc.byFlag, got)
		}
	}
}

// FuzzXDGDownloadDir: any user-dirs.dirs gives "" or a clean absolute path.
func FuzzXDGDownloadDir(f *testing.F) {
	for _, s := range []string{"XDG_DOWNLOAD_DIR=\"$HOME/Downloads\"", "XDG_DOWNLOAD_DIR=\"\"", "XDG_DOWNLOAD_DIR=\"", "XDG_DOWNLOAD_DIR=\"$HOME\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		got := xdgDownloadDir(bufio.NewScanner(strings.NewReader(file)), "/home/ada")
		if got != "" && (!filepath.IsAbs(got) || filepath.Clean(got) != got) {
			t.Fatalf("%q gave %q", file, got)
		}
	})
}
