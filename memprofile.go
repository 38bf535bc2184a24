package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"
)

// memProfileAfter is when the heap profile of $PARLEY_MEMPROFILE is taken: after
// the window's settle (app/run.go frees start-up garbage at 3 s) and before
// cmd/benchgui reads the idle RSS at 5 s, so the profile shows what that figure holds.
const memProfileAfter = 4500 * time.Millisecond

// memProfileRate samples one allocation per 4 KiB instead of Go's 512 KiB, so
// the few large start-up allocations (parsed fonts, the first history page) are
// told apart; set only when a profile is asked for.
const memProfileRate = 4096

// init starts the heap profile of $PARLEY_MEMPROFILE (a folder; heap-PID.pprof in
// it) as early as possible: the sampling rate must be set before the allocations
// it is meant to see. The way to see what an idle window holds (docs/benchmarks.md,
// Desktop window).
func init() {
	dir := os.Getenv("PARLEY_MEMPROFILE")
	if dir == "" {
		return
	}
	runtime.MemProfileRate = memProfileRate
	time.AfterFunc(memProfileAfter, func() {
		if err := writeHeapProfile(filepath.Join(dir, fmt.Sprintf("heap-%d.pprof", os.Getpid()))); err != nil {
			slog.Warn("PARLEY_MEMPROFILE", "err", err)
		}
	})
}

func writeHeapProfile(path string) error {
	runtime.GC() // the profile's in-use figures are as of the last collection
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
