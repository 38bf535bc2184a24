package app

import (
	"path/filepath"
	"runtime"
	"testing"
)

// osPath is an absolute path on this system made of parts: /home/me/x on Unix,
// C:\home\me\x on Windows, where a path without a drive is not absolute (the
// tests run under Wine in make test-windows).
func osPath(parts ...string) string {
	root := string(filepath.Separator)
	if runtime.GOOS == "windows" {
		root = `C:\`
	}
	return filepath.Join(append([]string{root}, parts...)...)
}

func TestOSPathIsAbsolute(t *testing.T) {
	if p := osPath("home", "me"); !filepath.IsAbs(p) {
		t.Fatalf("%q is not absolute here", p)
	}
}

// osURL is the file:// URL the desktop is asked to open for osPath(parts...).
func osURL(parts ...string) string { return fileURL(osPath(parts...)).String() }
