// Package testwait is the one "wait until" of Parley's tests: poll a condition
// until it holds, and fail the test, naming what it waited for, when it does
// not in time.
//
// Unit tests over real sockets and goroutines (overlay, chat, discovery) and
// the integration tests poll the same way and differ only in how long they
// give a condition and how often they look, so those stay at each call site.
// A unit test over in-memory fakes with nothing else to wait for should prefer
// testing/synctest, where waiting costs no wall time. A test that can be told
// of progress (media/relay's hook) waits on that signal instead.
package testwait

import (
	"context"
	"testing"
	"time"
)

// Until checks cond every poll until it holds, failing t once timeout has
// passed.
func Until(t testing.TB, timeout, poll time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if !check(ctx, poll, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// UntilContext checks cond every poll until it holds, failing t once ctx is
// done: for a test whose whole run shares one deadline.
func UntilContext(t testing.TB, ctx context.Context, poll time.Duration, what string, cond func() bool) {
	t.Helper()
	if !check(ctx, poll, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// check reports whether cond held before ctx was done. cond is checked first,
// so a condition that already holds costs no tick.
func check(ctx context.Context, poll time.Duration, cond func() bool) bool {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}
