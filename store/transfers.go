package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// File transfers (package files) keep three buckets, all keyed by the offer ID:
//
//	xfers    offer ID → JSON Transfer (state, peers, paths: small, rewritten often)
//	xfoffer  offer ID → the signed offer as it travelled (with the chunk manifest;
//	                    written once, up to about 1 MiB)
//	xfhave   offer ID → have-bitmap of a download, bit i = chunk i is on disk
//	                    (rewritten as the download progresses)
//
// Splitting them keeps the frequent bitmap writes from rewriting the manifest.
var (
	bucketXfers   = []byte("xfers")
	bucketXfOffer = []byte("xfoffer")
	bucketXfHave  = []byte("xfhave")
)

// migrateV3ToV4 adds the file-transfer buckets.
func migrateV3ToV4(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketXfers, bucketXfOffer, bucketXfHave} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// Transfer is the durable state of one file offer, sent or received.
type Transfer struct {
	ID      string    `json:"id"`
	Out     bool      `json:"out"`            // this node offered the file
	Peer    string    `json:"peer,omitempty"` // the offerer (in), or the recipient of a 1:1 offer (out)
	Room    string    `json:"room,omitempty"` // the room the file was offered into
	State   string    `json:"state"`
	Path    string    `json:"path,omitempty"` // source file (out), final file once done (in)
	Temp    string    `json:"temp,omitempty"` // partial download
	Reason  string    `json:"reason,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Offer and Have live in their own buckets (see above); PutTransfer writes
	// them only when non-nil.
	Offer []byte `json:"-"`
	Have  []byte `json:"-"`
}

// PutTransfer adds or replaces a transfer (and its offer and bitmap when set).
func (d *DB) PutTransfer(t Transfer) error {
	v, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("store: encode transfer %s: %w", t.ID, err)
	}
	err = d.bolt.Update(func(tx *bolt.Tx) error {
		k := []byte(t.ID)
		if err := tx.Bucket(bucketXfers).Put(k, v); err != nil {
			return err
		}
		if t.Offer != nil {
			if err := tx.Bucket(bucketXfOffer).Put(k, t.Offer); err != nil {
				return err
			}
		}
		if t.Have != nil {
			return tx.Bucket(bucketXfHave).Put(k, t.Have)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: put transfer %s: %w", t.ID, err)
	}
	return nil
}

// SetTransferHave replaces a download's have-bitmap.
func (d *DB) SetTransferHave(id string, have []byte) error {
	err := d.bolt.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketXfers).Get([]byte(id)) == nil {
			return fmt.Errorf("no transfer %s", id)
		}
		return tx.Bucket(bucketXfHave).Put([]byte(id), have)
	})
	if err != nil {
		return fmt.Errorf("store: set have of %s: %w", id, err)
	}
	return nil
}

// DeleteTransfer forgets a transfer entirely.
func (d *DB) DeleteTransfer(id string) error {
	err := d.bolt.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketXfers, bucketXfOffer, bucketXfHave} {
			if err := tx.Bucket(b).Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete transfer %s: %w", id, err)
	}
	return nil
}

// Transfers lists every stored transfer with its offer and bitmap, by offer ID.
// Entries that do not decode are skipped (a newer build's fields are ignored).
func (d *DB) Transfers() ([]Transfer, error) {
	var out []Transfer
	err := d.bolt.View(func(tx *bolt.Tx) error {
		offers, haves := tx.Bucket(bucketXfOffer), tx.Bucket(bucketXfHave)
		return tx.Bucket(bucketXfers).ForEach(func(k, v []byte) error {
			var t Transfer
			if json.Unmarshal(v, &t) != nil {
				return nil
			}
			// bbolt's slices are valid only inside the transaction.
			t.Offer = append([]byte(nil), offers.Get(k)...)
			if h := haves.Get(k); h != nil {
				t.Have = append([]byte(nil), h...)
			}
			out = append(out, t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: read transfers: %w", err)
	}
	return out, nil
}
