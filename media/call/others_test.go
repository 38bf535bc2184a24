package call

import (
	"testing"
	"time"
)

// Digits and hold changes are bounded per wall-clock second: what goes over in
// one second is refused, and the next second starts afresh.
func TestPerSecondBound(t *testing.T) {
	var r perSecond
	t0 := time.Unix(1_800_000_000, 0)
	if !r.allow(t0, 30, 40) || !r.allow(t0.Add(500*time.Millisecond), 10, 40) {
		t.Fatal("40 in one second refused with a limit of 40")
	}
	if r.allow(t0.Add(900*time.Millisecond), 1, 40) {
		t.Fatal("the 41st in one second allowed")
	}
	if !r.allow(t0.Add(time.Second), 40, 40) {
		t.Fatal("the next second did not start afresh")
	}
}
