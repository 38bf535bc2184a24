package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// startProfile writes a CPU profile of this run to $PARLEY_CPUPROFILE/cpu-PID.pprof
// when that variable names a folder: the way to see where a node spends its time
// under a test's load (one file per process, so a cluster of nodes started with
// the same environment does not overwrite one file). The returned stop flushes it.
func startProfile() (stop func(), err error) {
	dir := os.Getenv("PARLEY_CPUPROFILE")
	if dir == "" {
		return func() {}, nil
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", os.Getpid())))
	if err != nil {
		return nil, fmt.Errorf("PARLEY_CPUPROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("PARLEY_CPUPROFILE: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
