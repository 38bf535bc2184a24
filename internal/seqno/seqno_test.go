package seqno

import (
	"errors"
	"testing"
	"time"
)

// A restart with the clock set back an hour still issues numbers above every
// number of the run before, because the reservation was stored.
func TestRestartWithClockBehind(t *testing.T) {
	base := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	var stored uint64
	saves := 0
	save := func(r uint64) error { stored = r; saves++; return nil }
	first := New(func() time.Time { return base }, 0, save)
	var last uint64
	for range 1000 {
		n := first.Next()
		if n <= last {
			t.Fatalf("%d after %d", n, last)
		}
		last = n
	}
	if saves != 1 {
		t.Errorf("%d stores for 1,000 numbers within one reservation, want 1", saves)
	}
	second := New(func() time.Time { return base.Add(-time.Hour) }, stored, save)
	if n := second.Next(); n <= last {
		t.Fatalf("after a restart with the clock an hour behind: %d, not above the last run's %d", n, last)
	}
	// Without the store the clock alone goes backwards: what the overlay's
	// ownRecordSeen repairs from a peer's copy.
	lost := New(func() time.Time { return base.Add(-time.Hour) }, 0, nil)
	if n := lost.Next(); n >= last {
		t.Fatalf("a source without a store issued %d, expected the clock's value below %d", n, last)
	}
	lost.Observe(last)
	if n := lost.Next(); n <= last {
		t.Fatalf("after observing %d the next number is %d", last, n)
	}
}

// A failed store is reported and the number issued all the same; the next
// number tries again.
func TestSaveError(t *testing.T) {
	var reported int
	fail := true
	s := New(nil, 0, func(uint64) error {
		if fail {
			return errors.New("disk full")
		}
		return nil
	})
	s.SaveErr = func(error) { reported++ }
	a := s.Next()
	fail = false
	b := s.Next()
	if b <= a || reported != 1 {
		t.Fatalf("numbers %d, %d; %d errors reported, want 1", a, b, reported)
	}
	if s.reserved <= b {
		t.Fatalf("reservation %d not above %d after a good store", s.reserved, b)
	}
}
