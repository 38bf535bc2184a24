package store

import (
	"bytes"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestTransfersRoundTripAndSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_700_000_000_000).UTC()
	offer := bytes.Repeat([]byte{0xab}, 300<<10) // a large manifest
	in := Transfer{ID: "a1", Peer: "p", State: "active", Temp: "/x/.part", Created: now, Updated: now, Offer: offer, Have: []byte{0x80}}
	out := Transfer{ID: "b2", Out: true, Room: "r", State: "offered", Path: "/src", Created: now, Updated: now, Offer: []byte{1, 2, 3}}
	for _, tr := range []Transfer{in, out} {
		if err := d.PutTransfer(tr); err != nil {
			t.Fatal(err)
		}
	}
	// A state change without Offer/Have keeps the stored ones.
	in.State, in.Offer, in.Have = "paused", nil, nil
	if err := d.PutTransfer(in); err != nil {
		t.Fatal(err)
	}
	if err := d.SetTransferHave("a1", []byte{0xc0, 0x01}); err != nil {
		t.Fatal(err)
	}
	if err := d.SetTransferHave("nope", []byte{1}); err == nil {
		t.Fatal("SetTransferHave accepted an unknown transfer")
	}
	d.Close()

	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	list, err := d.Transfers()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("got %d transfers, want 2", len(list))
	}
	a, b := list[0], list[1]
	if a.ID != "a1" || a.State != "paused" || !bytes.Equal(a.Offer, offer) || !bytes.Equal(a.Have, []byte{0xc0, 0x01}) || !a.Created.Equal(now) {
		t.Fatalf("a1 = %+v (offer %d bytes)", a, len(a.Offer))
	}
	if b.ID != "b2" || !b.Out || b.Room != "r" || b.Path != "/src" || !bytes.Equal(b.Offer, []byte{1, 2, 3}) || b.Have != nil {
		t.Fatalf("b2 = %+v", b)
	}
	if err := d.DeleteTransfer("a1"); err != nil {
		t.Fatal(err)
	}
	if list, _ := d.Transfers(); len(list) != 1 || list[0].ID != "b2" {
		t.Fatalf("after delete: %+v", list)
	}
}

// TestMigrationAddsTransferBuckets opens a schema-3 file (no transfer buckets):
// the migration adds them and stamps the current version.
func TestMigrationAddsTransferBuckets(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Roll the file back to what schema 3 wrote.
	err = d.bolt.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketXfers, bucketXfOffer, bucketXfHave} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("3"))
	})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v, _ := d.Schema(); v != SchemaVersion || SchemaVersion < 4 {
		t.Fatalf("schema %d, SchemaVersion %d; want at least 4", v, SchemaVersion)
	}
	if err := d.PutTransfer(Transfer{ID: "x", State: "offered"}); err != nil {
		t.Fatalf("put after migration: %v", err)
	}
}
