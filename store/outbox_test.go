package store

import (
	"fmt"
	"testing"
	"time"
)

func outboxIDs(t *testing.T, d *DB, peer string) string {
	t.Helper()
	es, err := d.Outbox(peer)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.ID+">"+e.To)
	}
	return fmt.Sprint(out)
}

func TestOutbox(t *testing.T) {
	d, dir := openTemp(t)
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	entries := []OutboxEntry{
		{ID: "02", To: "bob", Kind: 16, Payload: []byte{1, 2, 3}, Created: t0},
		{ID: "01", To: "bob", Kind: 16, Payload: []byte{4}, Created: t0},
		{ID: "01", To: "carol", Kind: 16, Payload: []byte{4}, Created: t0}, // a room message: one entry per member
		{ID: "03", To: "carol", Kind: 19, Payload: nil, Created: t0},
	}
	err := d.Update(func(tx *Tx) error {
		for _, e := range entries {
			if err := tx.PutOutbox(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := outboxIDs(t, d, ""); got != "[01>bob 01>carol 02>bob 03>carol]" {
		t.Fatalf("whole outbox = %s", got)
	}
	if got := outboxIDs(t, d, "bob"); got != "[01>bob 02>bob]" {
		t.Fatalf("outbox of bob = %s", got)
	}
	if got := outboxIDs(t, d, "dave"); got != "[]" {
		t.Fatalf("outbox of dave = %s", got)
	}
	if n, err := d.OutboxLen(); n != 4 || err != nil {
		t.Fatalf("OutboxLen = %d, %v", n, err)
	}
	// Replacing keeps one entry per (ID, peer).
	err = d.Update(func(tx *Tx) error {
		return tx.PutOutbox(OutboxEntry{ID: "02", To: "bob", Kind: 16, Payload: []byte{9}, Attempts: 3})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := d.OutboxLen(); n != 4 {
		t.Fatalf("OutboxLen after replace = %d", n)
	}

	// Survives a restart, payload and all.
	d.Close()
	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	es, err := d.Outbox("bob")
	if err != nil || len(es) != 2 {
		t.Fatalf("outbox of bob after reopen: %v, %v", es, err)
	}
	if e := es[1]; e.ID != "02" || e.Kind != 16 || string(e.Payload) != "\x09" || e.Attempts != 3 {
		t.Fatalf("replaced entry after reopen: %+v", e)
	}
	if e := es[0]; !e.Created.Equal(t0) || string(e.Payload) != "\x04" {
		t.Fatalf("entry after reopen: %+v", e)
	}

	// Delete reports whether the entry existed; deleting one peer's entry leaves the
	// other peer's entry for the same message.
	for _, s := range []struct {
		id, to  string
		existed bool
	}{{"01", "bob", true}, {"01", "bob", false}, {"01", "dave", false}, {"nope", "bob", false}} {
		var existed bool
		err := d.Update(func(tx *Tx) error {
			var err error
			existed, err = tx.DeleteOutbox(s.id, s.to)
			return err
		})
		if err != nil || existed != s.existed {
			t.Fatalf("DeleteOutbox(%s, %s) = %v, %v; want %v", s.id, s.to, existed, err, s.existed)
		}
	}
	if got := outboxIDs(t, d, ""); got != "[01>carol 02>bob 03>carol]" {
		t.Fatalf("outbox after deletes = %s", got)
	}
	if n, _ := d.OutboxLen(); n != 3 {
		t.Fatalf("OutboxLen after deletes = %d", n)
	}
}

// BenchmarkOutboxScanOffline is the retry loop's scan every second with 2,000
// room entries (2 KiB each) for members that are away: before, every entry was
// decoded each time (Outbox("")); now only entries for online peers are.
func BenchmarkOutboxScanOffline(b *testing.B) {
	d, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	err = d.Update(func(tx *Tx) error {
		for i := range 2000 {
			if err := tx.PutOutbox(OutboxEntry{ID: fmt.Sprint("m", i%20), To: fmt.Sprint("sybil", i), Kind: 16, Payload: make([]byte, 2048)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"decode-all", "online-only"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				if mode == "decode-all" {
					d.Outbox("")
				} else {
					d.OutboxWhere(func(string) bool { return false })
				}
			}
		})
	}
}

func TestOutboxWhereAndExpire(t *testing.T) {
	d, _ := openTemp(t)
	now := time.Unix(1_800_000_000, 0)
	err := d.Update(func(tx *Tx) error {
		for _, e := range []OutboxEntry{
			{ID: "a|b", To: "p1", Kind: 16},
			{ID: "r1", To: "p2", Kind: 16, Expires: now.Add(time.Hour)},
			{ID: "r2", To: "p1", Kind: 16, Expires: now.Add(-time.Hour)},
		} {
			if err := tx.PutOutbox(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := d.OutboxWhere(func(to string) bool { return to == "p1" })
	if len(got) != 2 {
		t.Fatalf("entries for p1: %+v", got)
	}
	gone, err := d.ExpireOutbox(now)
	if err != nil || len(gone) != 1 || gone[0].ID != "r2" {
		t.Fatalf("expired %+v, %v", gone, err)
	}
	if n, _ := d.OutboxLen(); n != 2 {
		t.Fatalf("outbox after expiry: %d", n)
	}
}
