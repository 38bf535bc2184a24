package node

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The downloads folder: the default given, then the one chosen (at once, and
// at the next start), never over --downloads; a guest's node keeps its own.
func TestDownloadsFolder(t *testing.T) {
	data := t.TempDir()
	def := filepath.Join(t.TempDir(), "Downloads")
	start := func(cfg Config) *Node {
		t.Helper()
		cfg.DataDir, cfg.Name, cfg.Listen = data, "d", "127.0.0.1:0"
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
		n, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n := start(Config{})
	if dir, byFlag := n.Downloads(); dir != filepath.Join(data, "downloads") || byFlag {
		t.Errorf("no default: %q, %v", dir, byFlag)
	}
	n.Stop()

	n = start(Config{DownloadsDefault: def})
	if dir, _ := n.Downloads(); dir != def {
		t.Errorf("default: %q, want %q", dir, def)
	}
	if err := n.SetDownloads("relative/dir"); err == nil {
		t.Error("a relative folder was taken")
	}
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o600)
	if err := n.SetDownloads(filepath.Join(blocker, "sub")); err == nil {
		t.Error("a folder under a file was taken")
	}
	chosen := filepath.Join(t.TempDir(), "Incoming", "")
	if err := n.SetDownloads(chosen + "/"); err != nil {
		t.Fatal(err)
	}
	if dir, _ := n.Downloads(); dir != chosen {
		t.Errorf("after SetDownloads: %q, want %q", dir, chosen)
	}
	if dir := n.files.Downloads(); dir != chosen {
		t.Errorf("the files service still uses %q", dir)
	}
	if entries, _ := os.ReadDir(chosen); len(entries) != 0 {
		t.Errorf("the writability probe was left behind: %v", entries)
	}
	n.Stop()

	// Kept for the next start, over the default; --downloads wins over both.
	n = start(Config{DownloadsDefault: def})
	if dir, _ := n.Downloads(); dir != chosen {
		t.Errorf("next start: %q, want %q", dir, chosen)
	}
	n.Stop()
	flag := filepath.Join(t.TempDir(), "flag")
	n = start(Config{Downloads: flag, DownloadsDefault: def})
	defer n.Stop()
	if dir, byFlag := n.Downloads(); dir != flag || !byFlag {
		t.Errorf("with --downloads: %q, %v", dir, byFlag)
	}
	if err := n.SetDownloads(chosen); err == nil || !strings.Contains(err.Error(), "--downloads") {
		t.Errorf("SetDownloads over the flag: %v", err)
	}
}
