package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Held is a sealed message this node keeps for an absent recipient on behalf of a
// sender who may be gone by the time the recipient returns. The envelope is
// encrypted to the recipient: the holder cannot read it.
type Held struct {
	ID       string    `json:"id"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Envelope []byte    `json:"envelope"`
	Expires  time.Time `json:"expires"`
}

// CustodyLimits bound what a node holds for others.
type CustodyLimits struct {
	MaxEntries   int   // in total
	MaxBytes     int64 // envelopes in total
	MaxPerSender int
}

// ErrCustodyFull means holding one more envelope would break a limit.
var ErrCustodyFull = fmt.Errorf("custody store full")

func heldKey(to, id string) []byte { return []byte(to + "|" + id) }

// PutHeld stores an envelope unless a limit would be exceeded; a repeat of a held ID
// is accepted without storing twice. Expired entries are purged first.
func (d *DB) PutHeld(h Held, lim CustodyLimits, now time.Time) error {
	return d.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCustody)
		if b.Get(heldKey(h.To, h.ID)) != nil {
			return nil
		}
		var n, fromSender int
		var size int64
		var expired [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var o Held
			if json.Unmarshal(v, &o) != nil || now.After(o.Expires) {
				expired = append(expired, append([]byte(nil), k...))
				return nil
			}
			n++
			size += int64(len(o.Envelope))
			if o.From == h.From {
				fromSender++
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		if n+1 > lim.MaxEntries || size+int64(len(h.Envelope)) > lim.MaxBytes || fromSender+1 > lim.MaxPerSender {
			return ErrCustodyFull
		}
		v, err := json.Marshal(h)
		if err != nil {
			return err
		}
		return b.Put(heldKey(h.To, h.ID), v)
	})
}

// HeldFor lists unexpired envelopes held for a recipient.
func (d *DB) HeldFor(to string, now time.Time) ([]Held, error) {
	var out []Held
	err := d.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketCustody).Cursor()
		prefix := []byte(to + "|")
		for k, v := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, v = c.Next() {
			var h Held
			if json.Unmarshal(v, &h) == nil && !now.After(h.Expires) {
				out = append(out, h)
			}
		}
		return nil
	})
	return out, err
}

// DeleteHeld drops an envelope once its recipient has taken it.
func (d *DB) DeleteHeld(to, id string) (existed bool, err error) {
	err = d.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCustody)
		if b.Get(heldKey(to, id)) == nil {
			return nil
		}
		existed = true
		return b.Delete(heldKey(to, id))
	})
	return existed, err
}
