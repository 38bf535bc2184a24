package netlab

import (
	"fmt"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs fn on an OS thread that has joined the host's network namespace.
// Sockets fn creates belong to that namespace and stay there, so they can be
// used (read, written, closed) from any goroutine afterwards. fn must do its
// namespace-sensitive work on its own goroutine: goroutines it starts run on
// other threads, in the test process's namespace.
func (h *Host) Do(fn func() error) error {
	if err := doInNS(h.NS, fn); err != nil {
		return fmt.Errorf("netlab: %s: %w", h.Name, err)
	}
	return nil
}

// doInNS runs fn in a fresh goroutine locked to its thread for the duration.
// The fresh goroutine matters: if switching back fails, that goroutine exits
// still locked and the Go runtime destroys the thread instead of reusing a
// thread stuck in the wrong namespace.
func doInNS(ns string, fn func() error) error {
	target, err := unix.Open(filepath.Join(netnsDir, ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", ns, err)
	}
	defer unix.Close(target)

	result := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Per-thread path: /proc/self/ns/net would be the main thread's.
		orig, err := unix.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			result <- fmt.Errorf("open own netns: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread() // still in the original namespace
			result <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		restored := false
		defer func() {
			if restored {
				runtime.UnlockOSThread()
			}
			// Otherwise stay locked: the thread dies with this goroutine.
		}()
		fnErr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			result <- fmt.Errorf("setns back from %s: %w", ns, err)
			return
		}
		restored = true
		result <- fnErr
	}()
	return <-result
}
