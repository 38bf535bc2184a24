// Package procstat reads a Linux process's CPU time and memory from /proc, for
// the benchmark commands that judge a node (or the program it is compared with)
// by what it cost.
package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of /proc/PID/stat's times: USER_HZ, 100 on every Linux
// the project runs on.
const userHZ = 100

// CPU is a process's user and system time so far; with children, that of its
// reaped children too (fields 14–17 of /proc/PID/stat instead of 14–15), so a
// daemon that forks one child per session (sshd) is charged for the session once
// the child has been reaped.
func CPU(pid int, children bool) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStat(string(b), children)
}

func parseStat(s string, children bool) (time.Duration, error) {
	// The command name, field 2, is in parentheses and may hold spaces and
	// parentheses itself: count from the last ')'.
	end := strings.LastIndexByte(s, ')')
	if end < 0 || end+2 > len(s) {
		return 0, fmt.Errorf("procstat: malformed stat %q", s)
	}
	f := strings.Fields(s[end+2:]) // f[0] is field 3 (state)
	last := 12
	if children {
		last = 14
	}
	if len(f) <= last {
		return 0, fmt.Errorf("procstat: stat has %d fields", len(f)+2)
	}
	var ticks int64
	for i := 11; i <= last; i++ {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: field %d: %w", i+3, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// Status is what a benchmark reads of /proc/PID/status.
type Status struct {
	RSSKiB  int // VmRSS
	Threads int
}

// ReadStatus reads a process's resident set and thread count.
func ReadStatus(pid int) (Status, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Status{}, err
	}
	return parseStatus(string(b))
}

func parseStatus(s string) (Status, error) {
	var st Status
	seen := false
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			st.RSSKiB, _ = strconv.Atoi(f[1])
			seen = true
		case "Threads:":
			st.Threads, _ = strconv.Atoi(f[1])
		}
	}
	if !seen {
		return st, fmt.Errorf("procstat: no VmRSS")
	}
	return st, nil
}
