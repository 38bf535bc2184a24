package store

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestCustodyLimitsExpiryAndRelease(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now := time.Unix(1_800_000_000, 0)
	lim := CustodyLimits{MaxEntries: 3, MaxBytes: 100, MaxPerSender: 2}
	put := func(id, from, to string, size int, ttl time.Duration) error {
		_, err := d.PutHeld(Held{ID: id, From: from, To: to, Envelope: make([]byte, size), Expires: now.Add(ttl)}, lim, now)
		return err
	}
	if err := put("m1", "s1", "r", 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := put("m1", "s1", "r", 10, time.Hour); err != nil {
		t.Fatalf("a repeat must be accepted without storing twice: %v", err)
	}
	if err := put("m2", "s1", "r", 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := put("m3", "s1", "r", 10, time.Hour); !errors.Is(err, ErrCustodyFull) {
		t.Fatalf("third from one sender: %v, want ErrCustodyFull", err)
	}
	if err := put("m4", "s2", "r", 200, time.Hour); !errors.Is(err, ErrCustodyFull) {
		t.Fatalf("over the byte limit: %v", err)
	}
	if err := put("m5", "s2", "other", 10, time.Minute); err != nil {
		t.Fatal(err)
	}
	// Full (3 entries): s3 and s2 now hold as much as each other would; s2's second
	// would leave s1 (2) no larger than s2 (2), so nobody gives way.
	if err := put("m6", "s2", "r", 10, time.Hour); !errors.Is(err, ErrCustodyFull) {
		t.Fatalf("over the entry limit: %v", err)
	}
	held, err := d.HeldFor("r", now)
	if err != nil || len(held) != 2 {
		t.Fatalf("held for r: %v, %v", held, err)
	}
	// Once m5 expires there is room again, and it is no longer handed out.
	later := now.Add(2 * time.Minute)
	if h, _ := d.HeldFor("other", later); len(h) != 0 {
		t.Fatalf("expired envelope still handed out: %v", h)
	}
	if _, err := d.PutHeld(Held{ID: "m6", From: "s3", To: "r", Envelope: []byte("x"), Expires: later.Add(time.Hour)}, lim, later); err != nil {
		t.Fatalf("expired entries should have made room: %v", err)
	}
	if ok, err := d.DeleteHeld("r", "m1"); !ok || err != nil {
		t.Fatalf("release m1: %v %v", ok, err)
	}
	if ok, _ := d.DeleteHeld("r", "m1"); ok {
		t.Fatal("released twice")
	}
	held, _ = d.HeldFor("r", later)
	var ids []string
	for _, h := range held {
		ids = append(ids, h.ID)
	}
	if fmt.Sprint(ids) != "[m2 m6]" {
		t.Fatalf("held for r after release: %v", ids)
	}
}

// Four throwaway senders fill the store to its 2,000-entry cap (500 each, the
// per-sender cap), with envelopes valid for 7 days. Schema 4 then refused every
// other sender for those 7 days; now the largest holder gives way.
func TestCustodyFairShareEviction(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now := time.Unix(1_800_000_000, 0)
	lim := CustodyLimits{MaxEntries: 2000, MaxBytes: 16 << 20, MaxPerSender: 500}
	week := now.Add(7 * 24 * time.Hour)
	for s := range 4 {
		for i := range 500 {
			h := Held{ID: fmt.Sprintf("sybil-%d-%d", s, i), From: fmt.Sprintf("sybil%d", s), To: "victim", Envelope: make([]byte, 100), Expires: week}
			if _, err := d.PutHeld(h, lim, now); err != nil {
				t.Fatalf("sybil %d entry %d: %v", s, i, err)
			}
		}
	}
	evictedTotal := 0
	for i := range 10 {
		n, err := d.PutHeld(Held{ID: fmt.Sprintf("honest-%d", i), From: "alice", To: "bob", Envelope: make([]byte, 100), Expires: week}, lim, now)
		if err != nil {
			t.Fatalf("honest entry %d refused with the store full of sybils: %v", i, err)
		}
		evictedTotal += n
	}
	if evictedTotal != 10 {
		t.Fatalf("evicted %d sybil entries for 10 honest ones", evictedTotal)
	}
	if h, _ := d.HeldFor("bob", now); len(h) != 10 {
		t.Fatalf("held for bob: %d", len(h))
	}
	// A sybil cannot evict the honest sender: it holds far less than any sybil.
	for i := range 20 {
		h := Held{ID: fmt.Sprintf("more-%d", i), From: "sybil9", To: "victim", Envelope: make([]byte, 100), Expires: week}
		if _, err := d.PutHeld(h, lim, now); err != nil {
			t.Fatal(err)
		}
	}
	if h, _ := d.HeldFor("bob", now); len(h) != 10 {
		t.Fatalf("a new sybil evicted the honest sender's entries: %d left", len(h))
	}
}

// The same ID from two senders is two entries: a sender copying someone
// else's message ID cannot make a custodian drop or shadow the real one.
func TestCustodySameIDTwoSenders(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now := time.Unix(1_800_000_000, 0)
	lim := CustodyLimits{MaxEntries: 10, MaxBytes: 1000, MaxPerSender: 5}
	for _, from := range []string{"mallory", "alice"} {
		if _, err := d.PutHeld(Held{ID: "X", From: from, To: "bob", Envelope: []byte(from), Expires: now.Add(time.Hour)}, lim, now); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := d.HeldFor("bob", now)
	if len(h) != 2 {
		t.Fatalf("held %d envelopes for bob, want both", len(h))
	}
}

// BenchmarkPutHeldFull is one custody request against a store at its limits
// (2,000 entries, 16 MiB of envelopes). Schema 4 decoded the whole store per
// request inside the write transaction; the index makes it a walk over 2,000
// short values.
func BenchmarkPutHeldFull(b *testing.B) {
	d, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	now := time.Unix(1_800_000_000, 0)
	lim := CustodyLimits{MaxEntries: 2000, MaxBytes: 16 << 20, MaxPerSender: 500}
	for s := range 4 {
		for i := range 500 {
			h := Held{ID: fmt.Sprintf("%d-%d", s, i), From: fmt.Sprint("s", s), To: "r", Envelope: make([]byte, 8000), Expires: now.Add(time.Hour)}
			if _, err := d.PutHeld(h, lim, now); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for i := range b.N {
		// Refused (s0 is at its cap): the cost is the limit check alone.
		if _, err := d.PutHeld(Held{ID: fmt.Sprint("x", i), From: "s0", To: "r", Envelope: make([]byte, 8000), Expires: now.Add(time.Hour)}, lim, now); !errors.Is(err, ErrCustodyFull) {
			b.Fatal(err)
		}
	}
}

func FuzzDecodeHeldMeta(f *testing.F) {
	f.Add(heldMeta{expires: 1, size: 2, from: "s"}.encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := decodeHeldMeta(b)
		if ok && string(m.encode()) != string(b) {
			t.Fatalf("round trip of %x gave %x", b, m.encode())
		}
	})
}
