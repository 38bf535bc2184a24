package testwait

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestUntilWaitsForCondition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		Until(t, time.Minute, 10*time.Millisecond, "a second to pass", func() bool {
			return time.Since(start) >= time.Second
		})
		if got := time.Since(start); got != time.Second {
			t.Fatalf("returned after %v, want 1s", got)
		}
	})
}

func TestCheckGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		calls := 0
		if check(ctx, 100*time.Millisecond, func() bool { calls++; return false }) {
			t.Fatal("check reported a condition that never held")
		}
		if got := time.Since(start); got != time.Second {
			t.Fatalf("gave up after %v, want 1s", got)
		}
		if calls < 10 || calls > 11 {
			t.Fatalf("cond checked %d times in 1s at 100ms, want 10 or 11", calls)
		}
	})
}

func TestCheckHeldAlready(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if !check(ctx, time.Hour, func() bool { return true }) {
		t.Fatal("a condition that holds at once failed on a done context")
	}
}
