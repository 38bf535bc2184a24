package store

import (
	"bytes"
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
	// Expires, when set, is when the entry is given up (ExpireOutbox): a room
	// message waits that long for a member that never acknowledges. Direct
	// messages never expire: the user chose the peer.
	Expires time.Time `json:"expires,omitzero"`
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
	return d.OutboxWhere(func(to string) bool { return peer == "" || to == peer })
}

// OutboxWhere lists the entries whose peer keep accepts. The peer is read from
// the key, so entries for other peers cost a key comparison, not a decode: the
// retry loop runs this every second, and entries for peers that are away (a room's
// absent or Sybil members) would otherwise be decoded each time.
func (d *DB) OutboxWhere(keep func(to string) bool) ([]OutboxEntry, error) {
	var out []OutboxEntry
	err := d.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			i := bytes.LastIndexByte(k, '|')
			if i < 0 || !keep(string(k[i+1:])) {
				return nil
			}
			var e OutboxEntry
			if json.Unmarshal(v, &e) == nil {
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

// ExpireOutbox deletes the entries whose Expires has passed and returns them.
func (d *DB) ExpireOutbox(now time.Time) ([]OutboxEntry, error) {
	var gone []OutboxEntry
	err := d.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		var keys [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var e OutboxEntry
			if json.Unmarshal(v, &e) == nil && !e.Expires.IsZero() && now.After(e.Expires) {
				keys = append(keys, append([]byte(nil), k...))
				gone = append(gone, e)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: expire outbox: %w", err)
	}
	return gone, nil
}

// OutboxLen counts waiting entries.
func (d *DB) OutboxLen() (n int, err error) {
	err = d.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketOutbox).Stats().KeyN
		return nil
	})
	return n, err
}
