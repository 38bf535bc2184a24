package netlab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// prebuilt is one binary resolved or built once per process.
type prebuilt struct {
	once sync.Once
	path string
	err  error
}

func (b *prebuilt) get(env, tags string) (string, error) {
	b.once.Do(func() { b.path, b.err = buildBinary(env, tags) })
	return b.path, b.err
}

var built, builtPlain, builtHostile prebuilt

// buildTags are the tags every parley build takes (Fyne's fyne.Do migration).
const buildTags = "migrated_fynedo"

// BuildBinary builds the parley binary (`go build -o ... .` in the module
// root) once per process and returns its path under $TMPDIR/prl<pid>/bin
// (removed by a later SweepStale). If NETLAB_PARLEY_BIN is set, that prebuilt
// binary is used instead: `make test` points it at a race-detector build, so
// races under real traffic fail the run.
func BuildBinary() (string, error) { return built.get("NETLAB_PARLEY_BIN", buildTags) }

// BuildPlainBinary is BuildBinary for tests that measure speed or memory: the
// race detector multiplies the CPU cost of some code (crypto above all) by ten
// or more and of other code (syscalls) hardly at all, so figures from a race
// build describe the detector, not what a user runs. NETLAB_PARLEY_PLAIN_BIN
// names a prebuilt ordinary build; without it one is built.
func BuildPlainBinary() (string, error) { return builtPlain.get("NETLAB_PARLEY_PLAIN_BIN", buildTags) }

// BuildHostileBinary builds the test-only variant of parley that can serve
// corrupted file chunks (-tags parleyhostile, files/hostile_serve.go; armed by
// PARLEY_HOSTILE_CORRUPT_CHUNKS=N in its environment, every Nth chunk). It
// plays the malicious holder in the file-sharing tests; no other build has
// the code. NETLAB_PARLEY_HOSTILE_BIN names a prebuilt one (make
// test-integration builds it next to the others); without it one is built.
// No race detector: only the honest nodes are under test.
func BuildHostileBinary() (string, error) {
	return builtHostile.get("NETLAB_PARLEY_HOSTILE_BIN", buildTags+",parleyhostile")
}

func buildBinary(env, tags string) (string, error) {
	if p := os.Getenv(env); p != "" {
		abs, err := filepath.Abs(p)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			return "", fmt.Errorf("netlab: %s: %w", env, err)
		}
		return abs, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir, err := makeLabDir("bin")
	if err != nil {
		return "", fmt.Errorf("netlab: build: %w", err)
	}
	out := filepath.Join(dir, "parley-"+strings.ToLower(env)) // one file per kind: a running binary cannot be overwritten
	cmd := exec.Command("go", "build", "-tags", tags, "-o", out, ".")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("netlab: go build in %s: %w: %s", root, err, bytes.TrimSpace(b))
	}
	return out, nil
}

// moduleRoot walks up from the working directory (a test's package dir, or
// wherever a benchmark runs) to the nearest go.mod, falling back to this
// source file's location for binaries run from elsewhere in a checkout.
func moduleRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", errors.New("netlab: no go.mod found above the working directory")
}

// Setup prepares a lab for a program (benchmarks): it resolves the parley binary
// (building it when bin is empty), clears leftovers of crashed earlier runs and makes
// a new lab. The caller closes the lab.
func Setup(bin string) (*Lab, string, error) {
	if bin == "" {
		var err error
		if bin, err = BuildBinary(); err != nil {
			return nil, "", err
		}
	}
	if err := SweepStale(); err != nil {
		return nil, "", err
	}
	lab, err := New()
	if err != nil {
		return nil, "", err
	}
	return lab, bin, nil
}
