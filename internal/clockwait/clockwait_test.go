package clockwait

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestSleepFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if !Sleep(t.Context(), time.Minute) {
			t.Fatal("Sleep with a live context reported false")
		}
		if got := time.Since(start); got != time.Minute {
			t.Fatalf("slept %v, want 1m", got)
		}
	})
}

func TestSleepCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		if Sleep(ctx, time.Hour) {
			t.Fatal("Sleep past its context's end reported true")
		}
		if got := time.Since(start); got != time.Second {
			t.Fatalf("returned after %v, want 1s (the context's end)", got)
		}
	})
}

func TestSleepNonPositive(t *testing.T) {
	if !Sleep(context.Background(), 0) || !Sleep(context.Background(), -time.Second) {
		t.Fatal("Sleep(≤0) with a live context reported false")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, 0) {
		t.Fatal("Sleep(0) with a done context reported true")
	}
}
