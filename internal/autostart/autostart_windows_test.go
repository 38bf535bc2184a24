//go:build windows

package autostart

import (
	"fmt"
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// The Run value round-trips through the parser Windows itself uses at login
// (CommandLineToArgvW), awkward characters included. make test-windows runs it
// under Wine, whose registry and shell32 stand in for Windows'.
func TestRunKeyEntry(t *testing.T) {
	id := fmt.Sprintf("app.parley.test.%d", os.Getpid()) // never the user's own entry
	t.Cleanup(func() { _ = Disable(id) })
	if on, err := Enabled(id); err != nil || on {
		t.Fatalf("before: enabled %v, %v", on, err)
	}
	args := []string{`C:\Program Files\Parley\parley.exe`, "--data", `C:\Users\a"b\x\`, `50% \\server\share`, ""}
	if err := Enable(Entry{ID: id, Name: "Parley", Exec: args}); err != nil {
		t.Fatal(err)
	}
	if on, err := Enabled(id); err != nil || !on {
		t.Fatalf("after Enable: enabled %v, %v", on, err)
	}
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	line, _, err := k.GetStringValue(id)
	k.Close()
	if err != nil {
		t.Fatal(err)
	}
	got, err := windows.DecomposeCommandLine(line)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, args) {
		t.Fatalf("Run value %q splits into %q, want %q", line, got, args)
	}
	if err := Disable(id); err != nil {
		t.Fatal(err)
	}
	if on, err := Enabled(id); err != nil || on {
		t.Fatalf("after Disable: enabled %v, %v", on, err)
	}
	if err := Disable(id); err != nil {
		t.Fatalf("a second Disable: %v", err)
	}
}
