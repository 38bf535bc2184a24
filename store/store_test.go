package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, dir
}

func TestOpenCreatesSchema(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v, err := d.Schema(); err != nil || v != SchemaVersion {
		t.Fatalf("schema = %d, %v; want %d", v, err, SchemaVersion)
	}
	if d.Path() != filepath.Join(dir, FileName) {
		t.Fatalf("path = %s", d.Path())
	}
	// Every bucket exists: using each one works on a fresh file.
	if err := d.SetSetting("name", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := d.PutPeer(Peer{ID: "p"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Update(func(tx *Tx) error {
		if _, err := tx.PutMessage(Message{ID: "m", Conv: DirectConv("p")}); err != nil {
			return err
		}
		return tx.PutOutbox(OutboxEntry{ID: "m", To: "p"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := d.PutRoom(Room{ID: "r"}); err != nil {
		t.Fatal(err)
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	_, dir := openTemp(t)
	start := time.Now()
	d2, err := Open(dir)
	if err == nil {
		d2.Close()
		t.Fatal("second Open of the same data dir succeeded")
	}
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("err = %v, want ErrInUse", err)
	}
	if !strings.Contains(err.Error(), filepath.Join(dir, FileName)) || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("error %q does not name the locked file", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("second Open took %v", d)
	}
}

func TestLockReleasedOnClose(t *testing.T) {
	d, dir := openTemp(t)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	d2.Close()
}

func setRawSchema(t *testing.T, dir, v string) {
	t.Helper()
	b, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte(v)) })
	if err != nil {
		t.Fatal(err)
	}
}

func TestNewerOrCorruptSchemaRefused(t *testing.T) {
	for _, tc := range []struct{ stored, want string }{
		{fmt.Sprint(SchemaVersion + 1), "newer than this Parley understands"},
		{"seven", "corrupt"},
	} {
		t.Run(tc.stored, func(t *testing.T) {
			d, dir := openTemp(t)
			d.Close()
			setRawSchema(t, dir, tc.stored)
			d2, err := Open(dir)
			if err == nil {
				d2.Close()
				t.Fatal("Open accepted the file")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			// The refusal released the lock: a newer build could open it now.
			b, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{Timeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatalf("file still locked after refused Open: %v", err)
			}
			b.Close()
		})
	}
}

func TestOlderSchemaMigrated(t *testing.T) {
	dir := t.TempDir()
	// A schema-0 file: only the meta bucket, no version.
	b, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucketMeta); return err }); err != nil {
		t.Fatal(err)
	}
	b.Close()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v, _ := d.Schema(); v != SchemaVersion {
		t.Fatalf("schema after migration = %d", v)
	}
	if err := d.PutPeer(Peer{ID: "p"}); err != nil {
		t.Fatalf("roster bucket missing after migration: %v", err)
	}
}

func TestSettings(t *testing.T) {
	d, _ := openTemp(t)
	if _, ok, err := d.Setting("name"); ok || err != nil {
		t.Fatalf("unset setting: ok %v, err %v", ok, err)
	}
	if err := d.SetSetting("name", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := d.SetSetting("name", "alicia"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := d.Setting("name"); v != "alicia" || !ok || err != nil {
		t.Fatalf("setting = %q, %v, %v", v, ok, err)
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := d.SetSetting("name", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := d.PutPeer(Peer{ID: "bob", Name: "Bob", PubKey: []byte{1, 2}, Addrs: []string{"192.0.2.1:1"}, FirstSeen: t0, LastSeen: t0}); err != nil {
		t.Fatal(err)
	}
	if err := d.Update(func(tx *Tx) error {
		_, err := tx.PutMessage(Message{ID: "01", Conv: DirectConv("bob"), From: "alice", To: "bob", Text: "hi", HLC: 7 << 16, Time: t0, State: StateSent})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v, _, _ := d.Setting("name"); v != "alice" {
		t.Fatalf("setting after reopen = %q", v)
	}
	p, ok, err := d.GetPeer("bob")
	if !ok || err != nil || p.Name != "Bob" || !p.FirstSeen.Equal(t0) || len(p.Addrs) != 1 || string(p.PubKey) != "\x01\x02" {
		t.Fatalf("peer after reopen: %+v, %v, %v", p, ok, err)
	}
	m, ok, err := d.GetMessage("01")
	if !ok || err != nil || m.Text != "hi" || m.State != StateSent || !m.Time.Equal(t0) || m.Conv != DirectConv("bob") {
		t.Fatalf("message after reopen: %+v, %v, %v", m, ok, err)
	}
	if h, err := d.LastHLC(); h != 7<<16 || err != nil {
		t.Fatalf("LastHLC after reopen = %d, %v", h, err)
	}
}
