// Package sysinfo reads the facts about this machine that relay selection uses: is an
// interface wired or wireless, does the machine run on mains or battery, how busy is
// its CPU. Linux exposes them under /sys and /proc (sysfs.go); the root is
// injectable so tests run against a fake tree. On Windows, System asks the Windows
// APIs instead (sysinfo_windows.go) and a Reader with another root still reads a
// tree; elsewhere (macOS) the tree is missing and everything reads as Unknown. Anything unreadable is reported as Unknown, never an error:
// these are hints, and a container without /sys must still work.
package sysinfo

import "path/filepath"

// LinkType is an interface's medium.
type LinkType uint8

const (
	LinkUnknown  LinkType = 0
	LinkWired    LinkType = 1
	LinkWireless LinkType = 2
)

func (t LinkType) String() string {
	return [...]string{"unknown", "wired", "wireless"}[min(int(t), 2)]
}

// Power is the machine's power source.
type Power uint8

const (
	PowerUnknown Power = 0
	PowerMains   Power = 1
	PowerBattery Power = 2
)

func (p Power) String() string { return [...]string{"unknown", "mains", "battery"}[min(int(p), 2)] }

// ParsePower reads "mains", "battery" or "auto"/"" (= read from the OS).
func ParsePower(s string) (Power, bool) {
	switch s {
	case "mains":
		return PowerMains, true
	case "battery":
		return PowerBattery, true
	case "", "auto":
		return PowerUnknown, true
	}
	return PowerUnknown, false
}

// Reader reads from a root ("/" on a real machine).
type Reader struct{ Root string }

// System reads the real machine.
var System = Reader{Root: "/"}

func (r Reader) path(p ...string) string { return filepath.Join(append([]string{r.Root}, p...)...) }
