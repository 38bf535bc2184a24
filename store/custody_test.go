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
		return d.PutHeld(Held{ID: id, From: from, To: to, Envelope: make([]byte, size), Expires: now.Add(ttl)}, lim, now)
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
	if err := put("m6", "s3", "r", 10, time.Hour); !errors.Is(err, ErrCustodyFull) {
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
	if err := d.PutHeld(Held{ID: "m6", From: "s3", To: "r", Envelope: []byte("x"), Expires: later.Add(time.Hour)}, lim, later); err != nil {
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
