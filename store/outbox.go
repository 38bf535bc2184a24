package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// OutboxEntry is a message (or receipt) that waits for one peer's acknowledgement.
// It survives restarts, which is what lets Parley promise that nothing acknowledged
// to the user as sent is lost.
type OutboxEntry struct {
	ID       string    `json:"id"`
	To       string    `json:"to"`
	Kind     uint8     `json:"kind"`    // chat frame type of Payload
	Payload  []byte    `json:"payload"` // encoded frame body, ready to send
	Created  time.Time `json:"created"`
	Attempts int       `json:"attempts"`
}

func outboxKey(id, to string) []byte { return []byte(id + "|" + to) }

// PutOutbox adds or replaces an entry.
func (t *Tx) PutOutbox(e OutboxEntry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketOutbox).Put(outboxKey(e.ID, e.To), v)
}

// DeleteOutbox removes an entry; existed tells whether it was there.
func (t *Tx) DeleteOutbox(id, to string) (existed bool, err error) {
	b := t.tx.Bucket(bucketOutbox)
	k := outboxKey(id, to)
	if b.Get(k) == nil {
		return false, nil
	}
	return true, b.Delete(k)
}

// Outbox lists the entries waiting for peer ("" lists all), oldest first by ID.
func (d *DB) Outbox(peer string) ([]OutboxEntry, error) {
	var out []OutboxEntry
	err := d.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			var e OutboxEntry
			if json.Unmarshal(v, &e) == nil && (peer == "" || e.To == peer) {
				out = append(out, e)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: read outbox: %w", err)
	}
	return out, nil
}

// OutboxLen counts waiting entries.
func (d *DB) OutboxLen() (n int, err error) {
	err = d.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketOutbox).Stats().KeyN
		return nil
	})
	return n, err
}
