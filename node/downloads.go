package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// settingDownloads is the downloads folder chosen in the settings.
const settingDownloads = "downloads"

// Downloads is the folder accepted files land in now, and whether
// --downloads chose it (then SetDownloads refuses).
func (n *Node) Downloads() (dir string, byFlag bool) {
	return n.files.Downloads(), n.cfg.Downloads != ""
}

// SetDownloads makes dir (an absolute path; created if missing) the folder
// accepted files land in, at once for every file accepted from now on (one
// under way finishes where it started), and remembers it. A --downloads flag
// wins, so the choice is refused while one is given.
func (n *Node) SetDownloads(dir string) error {
	if n.cfg.Downloads != "" {
		return errors.New("the downloads folder is set by --downloads for this run")
	}
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("downloads folder %q is not a full path", dir)
	}
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("downloads folder: %w", err)
	}
	// Files are written here by name; a folder that only looks writable would
	// fail at the end of a transfer instead of now.
	probe, err := os.CreateTemp(dir, ".parley-probe-*")
	if err != nil {
		return fmt.Errorf("downloads folder %s cannot be written: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	if err := n.db.SetSetting(settingDownloads, dir); err != nil {
		return err
	}
	n.files.SetDownloads(dir)
	return nil
}
