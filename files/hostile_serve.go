//go:build parleyhostile

package files

import (
	"os"
	"strconv"
	"sync"
	"sync/atomic"
)

// This file exists only in a test build (-tags parleyhostile): a source that
// serves wrong bytes, so the multi-host tests can watch real receivers catch,
// drop and route around it. The ordinary and race builds compile
// hostile_serve_off.go instead, where hostileBuild is false and the call to
// corruptServed is removed at compile time.
const hostileBuild = true

// hostileEnv turns the corruption on in a hostile build: "N" corrupts every
// Nth chunk served (1: every chunk). Unset or 0, the build serves honestly, so
// one binary can play both parts.
const hostileEnv = "PARLEY_HOSTILE_CORRUPT_CHUNKS"

var (
	corruptEvery = func() uint64 {
		n, err := strconv.ParseUint(os.Getenv(hostileEnv), 10, 32)
		if err != nil {
			return 0
		}
		return n
	}()
	hostileServed atomic.Uint64
	hostileOnce   sync.Once
)

// corruptServed flips one byte of every corruptEvery-th chunk about to be sent.
func (s *Service) corruptServed(data []byte, index uint32) {
	if corruptEvery == 0 || len(data) == 0 {
		return
	}
	hostileOnce.Do(func() {
		s.cfg.Log.Warn("hostile test build: corrupting served chunks", "every", corruptEvery, "env", hostileEnv)
	})
	if hostileServed.Add(1)%corruptEvery != 0 {
		return
	}
	data[int(index)%len(data)] ^= 0xff
	s.count("files_hostile_corrupted")
}
