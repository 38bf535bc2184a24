package identity

import (
	"os"
	"path/filepath"
	"testing"
)

// A temporary file left by an earlier crash (or planted) with a loose mode
// must not lend that mode to the new key: os.OpenFile's mode applies only to
// files it creates, so the key used to inherit 0644 and be readable by every
// user of the machine.
func TestStaleTempFileDoesNotLoosenKey(t *testing.T) {
	if !keyModeMatters {
		t.Skip("no Unix modes on Windows: the key is guarded by the per-user ACL of %APPDATA%")
	}
	dir := t.TempDir()
	tmp := filepath.Join(dir, KeyFile+".tmp")
	if err := os.WriteFile(tmp, []byte("junk from a crash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil { // past the umask
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("new key has mode %v, want 0600", st.Mode().Perm())
	}
}

// The rename that installs a new key is made durable by syncing the
// directory; without it a crash can lose the key after the node has already
// announced the identity (peers then see a stranger with the same name).
func TestNewKeySyncsDirectory(t *testing.T) {
	dir := t.TempDir()
	var synced []string
	old := syncDir
	syncDir = func(d string) error { synced = append(synced, d); return old(d) }
	t.Cleanup(func() { syncDir = old })
	if _, err := LoadOrCreate(dir); err != nil {
		t.Fatal(err)
	}
	if len(synced) != 1 || synced[0] != dir {
		t.Fatalf("directories synced: %q, want [%q]", synced, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFile+".tmp")); !os.IsNotExist(err) {
		t.Fatalf("temporary file left behind: %v", err)
	}
}
