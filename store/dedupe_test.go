package store

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The custodian attack: a room member (or custodian) learns the ID of alice's
// message and delivers a message of its own under that ID first. Keyed by ID
// alone, alice's message was then a "duplicate": acknowledged and dropped while
// alice saw "delivered". Keyed by (author, ID), both are kept, even with the same
// HLC in the same conversation.
func TestDedupeByAuthorAndID(t *testing.T) {
	d, _ := openTemp(t)
	const room = "r:0123456789abcdef0123456789abcdef"
	forged := Message{ID: "01X", Conv: room, From: "mallory", Text: "first!", HLC: 500, State: StateReceived}
	real := Message{ID: "01X", Conv: room, From: "alice", Text: "the real one", HLC: 500, State: StateReceived}
	news := put(t, d, forged, real, real)
	if !news[0] || !news[1] {
		t.Fatalf("isNew = %v: alice's message was taken for a duplicate of mallory's", news)
	}
	if news[2] {
		t.Fatal("alice's retransmission was stored twice")
	}
	p, err := d.History(room, "", 10)
	if err != nil || len(p.Messages) != 2 {
		t.Fatalf("room history: %+v, %v", p.Messages, err)
	}
	for _, who := range []string{"mallory", "alice"} {
		m, ok, err := d.GetMessageFrom(who, "01X")
		if !ok || err != nil || m.From != who {
			t.Fatalf("GetMessageFrom(%s): %+v %v %v", who, m, ok, err)
		}
	}
	// The state of one is not the state of the other.
	err = d.Update(func(tx *Tx) error {
		_, _, err := tx.AdvanceState("alice", "01X", StateRead)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if m, _, _ := d.GetMessageFrom("mallory", "01X"); m.State != StateReceived {
		t.Fatalf("mallory's copy changed with alice's: %s", m.State)
	}
}

// TestMigrateSchema4 opens a file written by schema 4 (testdata/schema4.db, made
// by testdata/mkschema4.go.txt at commit ca67723): its messages are found by
// (author, ID), still deduplicated, and its custody store keeps working.
func TestMigrateSchema4(t *testing.T) {
	dir := t.TempDir()
	src, err := os.Open("testdata/schema4.db")
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.Create(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	src.Close()
	dst.Close()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v, _ := d.Schema(); v != SchemaVersion {
		t.Fatalf("schema %d after migration", v)
	}
	for _, c := range []struct{ from, id, conv string }{
		{"alice", "01OUT", "d:bob"}, {"bob", "01IN", "d:bob"}, {"carol", "01ROOM", "r:0123456789abcdef0123456789abcdef"},
	} {
		m, ok, err := d.GetMessageFrom(c.from, c.id)
		if !ok || err != nil || m.Conv != c.conv {
			t.Fatalf("%s from %s after migration: %+v %v %v", c.id, c.from, m, ok, err)
		}
		if news := put(t, d, m); news[0] {
			t.Fatalf("%s from %s: a retransmission was stored again", c.id, c.from)
		}
		if m2, ok, _ := d.GetMessageIn(c.conv, c.id); !ok || m2.From != c.from {
			t.Fatalf("GetMessageIn(%s, %s): %+v", c.conv, c.id, m2)
		}
	}
	if m, ok, _ := d.GetMessage("01IN"); !ok || m.Text != "hi alice" {
		t.Fatalf("GetMessage by ID: %+v %v", m, ok)
	}
	err = d.Update(func(tx *Tx) error {
		_, changed, err := tx.AdvanceState("alice", "01OUT", StateRead)
		if !changed {
			t.Error("AdvanceState of a migrated message changed nothing")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := d.OutboxLen(); n != 1 {
		t.Fatalf("outbox after migration: %d", n)
	}
	held, _ := d.HeldFor("erin", timeOf(t, "2026-12-02T00:00:00Z"))
	if len(held) != 1 || held[0].ID != "01HELD" || string(held[0].Envelope) != "sealed" {
		t.Fatalf("held after migration: %+v", held)
	}
	if ok, err := d.DeleteHeld("erin", "01HELD"); !ok || err != nil {
		t.Fatalf("release a migrated held envelope: %v %v", ok, err)
	}
	if v, _, _ := d.Setting("name"); v != "alice" {
		t.Fatalf("setting after migration: %q", v)
	}
}

func timeOf(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
