//go:build !windows

package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// userDownloads is the user's Downloads folder: XDG_DOWNLOAD_DIR from
// $XDG_CONFIG_HOME/user-dirs.dirs (written by xdg-user-dirs-update, in the
// user's language: "Téléchargements", "Descargas"), else ~/Downloads; "" when
// there is no home. Parsed here rather than through a library: the file is
// shell-like lines of NAME="$HOME/path" or NAME="/abs/path", and nothing else
// is read from it.
func userDownloads() string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	conf := os.Getenv("XDG_CONFIG_HOME")
	if conf == "" || !filepath.IsAbs(conf) {
		conf = filepath.Join(home, ".config")
	}
	if f, err := os.Open(filepath.Join(conf, "user-dirs.dirs")); err == nil {
		defer f.Close()
		if dir := xdgDownloadDir(bufio.NewScanner(f), home); dir != "" {
			return dir
		}
	}
	return filepath.Join(home, "Downloads")
}

// xdgDownloadDir reads XDG_DOWNLOAD_DIR from user-dirs.dirs lines. As the
// xdg-user-dirs spec says, the value is "$HOME/…" or an absolute path; one
// that is the home folder itself means the user disabled the folder, and
// anything else is ignored ("").
func xdgDownloadDir(lines *bufio.Scanner, home string) string {
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		val, ok := strings.CutPrefix(line, "XDG_DOWNLOAD_DIR=")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
			return ""
		}
		val = val[1 : len(val)-1]
		if rest, ok := strings.CutPrefix(val, "$HOME"); ok && (rest == "" || rest[0] == '/') {
			val = filepath.Join(home, rest)
		}
		if !filepath.IsAbs(val) || filepath.Clean(val) == filepath.Clean(home) {
			return ""
		}
		return filepath.Clean(val)
	}
	return ""
}
