package main

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"parley/internal/team"
)

// --new-team writes an invitation (0600, never over an existing file) that
// --team-file reads back; a bare passphrase file is refused with directions.
func TestNewTeamFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "crew")
	if err := writeInvitation(file, "engine 7 night shift"); err != nil {
		t.Fatal(err)
	}
	// Windows reports 0666 for every writable file; there the invitation is as
	// private as the folder the user writes it into.
	if st, err := os.Stat(file); err != nil || (runtime.GOOS != "windows" && st.Mode().Perm() != 0o600) {
		t.Fatalf("invitation file: %v %v", st, err)
	}
	if err := writeInvitation(file, ""); err == nil {
		t.Fatal("--new-team overwrote an existing file")
	}
	line, err := teamInvitation(file)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := team.ParseInvitation(line)
	if err != nil || inv.Passphrase != "engine 7 night shift" {
		t.Fatalf("read back %+v, %v", inv, err)
	}
	if err := writeInvitation(filepath.Join(dir, "weak"), "fire crew 7"); !errors.Is(err, team.ErrWeak) {
		t.Fatalf("weak passphrase: %v", err)
	}
	bare := filepath.Join(dir, "bare")
	if err := os.WriteFile(bare, []byte("engine 7 night shift\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := teamInvitation(bare); !errors.Is(err, team.ErrBarePassphrase) {
		t.Fatalf("bare passphrase file: %v", err)
	}
}
