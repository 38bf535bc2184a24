//go:build linux

package procstat

import (
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with a space and a parenthesis, as a process may set.
	line := "4242 (we(ird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 130 7 3 20 0 4 0 100 1000 200\n"
	got, err := parseStat(line, false)
	if err != nil || got != 3800*time.Millisecond {
		t.Errorf("own time %v, %v; want 3.8 s", got, err)
	}
	got, err = parseStat(line, true)
	if err != nil || got != 3900*time.Millisecond {
		t.Errorf("with children %v, %v; want 3.9 s", got, err)
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 z 1 1 1\n"} {
		if _, err := parseStat(bad, true); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseStatus(t *testing.T) {
	st, err := parseStatus("Name:\tparley\nVmRSS:\t   58112 kB\nThreads:\t12\n")
	if err != nil || st != (Status{RSSKiB: 58112, Threads: 12}) {
		t.Errorf("%+v, %v", st, err)
	}
	if _, err := parseStatus("Name:\tx\n"); err == nil {
		t.Error("a status without VmRSS parsed")
	}
}

// This process's own figures read back sensibly.
func TestOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := CPU(os.Getpid(), true); err != nil {
		t.Fatal(err)
	}
	st, err := ReadStatus(os.Getpid())
	if err != nil || st.RSSKiB <= 0 || st.Threads <= 0 {
		t.Fatalf("%+v, %v", st, err)
	}
}
