package sip

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiterBoundsRequestsPerSource(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(func() time.Time { return now })
	ok := 0
	for range 100 {
		if l.allow("10.0.0.2") {
			ok++
		}
	}
	if ok != requestBurst {
		t.Fatalf("%d of 100 at once allowed, want %d", ok, requestBurst)
	}
	if !l.allow("10.0.0.3") {
		t.Fatal("another source is refused")
	}
	now = now.Add(time.Second)
	ok = 0
	for range 100 {
		if l.allow("10.0.0.2") {
			ok++
		}
	}
	if ok != int(requestRate) {
		t.Fatalf("%d allowed a second later, want %d", ok, int(requestRate))
	}
	for i := range 2 * maxSources {
		l.allow(fmt.Sprint(i))
	}
	if len(l.srcs) > maxSources {
		t.Fatalf("%d sources tracked", len(l.srcs))
	}
}

func TestLimiterBacksOffWrongPasswords(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(func() time.Time { return now })
	for i := 1; i < failuresBefore403; i++ {
		if l.failed("10.0.0.2", "radio1") {
			t.Fatalf("403 after %d failures", i)
		}
	}
	if !l.failed("10.0.0.2", "radio1") || !l.backedOff("10.0.0.2", "radio1") {
		t.Fatal("no 403 and back-off after repeated failures")
	}
	if l.backedOff("10.0.0.3", "radio1") || l.backedOff("10.0.0.2", "radio2") {
		t.Fatal("back-off spills onto another source or account")
	}
	now = now.Add(firstBackoff + time.Millisecond)
	if l.backedOff("10.0.0.2", "radio1") {
		t.Fatal("back-off did not end")
	}
	l.failed("10.0.0.2", "radio1")
	if now.Add(2*firstBackoff - time.Millisecond).After(l.fails["10.0.0.2 radio1"].until) {
		t.Fatal("back-off did not double")
	}
	for range 40 {
		l.failed("10.0.0.2", "radio1")
	}
	if d := l.fails["10.0.0.2 radio1"].until.Sub(now); d > maxBackoff {
		t.Fatalf("back-off %v beyond %v", d, maxBackoff)
	}
	l.succeeded("10.0.0.2", "radio1")
	if l.backedOff("10.0.0.2", "radio1") {
		t.Fatal("success did not clear")
	}
}
