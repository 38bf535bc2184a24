package netlab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

var built struct {
	once sync.Once
	path string
	err  error
}

// BuildBinary builds the parley binary (`go build -o ... .` in the module
// root) once per process and returns its path under $TMPDIR/prl<pid>/bin
// (removed by a later SweepStale). If NETLAB_PARLEY_BIN is set, that prebuilt
// binary is used instead, e.g. to benchmark a release build.
func BuildBinary() (string, error) {
	built.once.Do(func() { built.path, built.err = buildBinary() })
	return built.path, built.err
}

func buildBinary() (string, error) {
	if p := os.Getenv("NETLAB_PARLEY_BIN"); p != "" {
		abs, err := filepath.Abs(p)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			return "", fmt.Errorf("netlab: NETLAB_PARLEY_BIN: %w", err)
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
	out := filepath.Join(dir, "parley")
	cmd := exec.Command("go", "build", "-o", out, ".")
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
