package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Message states.
const (
	StateSent      = "sent"
	StateDelivered = "delivered"
	StateReceived  = "received"
)

// Message is one stored 1:1 message, incoming or outgoing.
type Message struct {
	ID    string    `json:"id"`
	From  string    `json:"from"`
	To    string    `json:"to"`
	Text  string    `json:"text"`
	Time  time.Time `json:"time"`
	State string    `json:"state"`
}

// SaveMessage stores m unless a message with its ID exists; isNew tells which, so a
// retransmitted message is acknowledged again but recorded and shown once. It returns
// only after the write is committed (bbolt batches concurrent callers into one
// transaction, which is what makes acknowledged-after-commit affordable).
func (d *DB) SaveMessage(m Message) (isNew bool, err error) {
	err = d.bolt.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMessages)
		if b.Get([]byte(m.ID)) != nil {
			isNew = false
			return nil
		}
		v, err := json.Marshal(m)
		if err != nil {
			return err
		}
		isNew = true
		return b.Put([]byte(m.ID), v)
	})
	if err != nil {
		return false, fmt.Errorf("store: save message %s: %w", m.ID, err)
	}
	return isNew, nil
}

// SetMessageState updates a stored message's state; changed is false when the
// message is unknown or already in that state.
func (d *DB) SetMessageState(id, state string) (changed bool, err error) {
	err = d.bolt.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMessages)
		v := b.Get([]byte(id))
		if v == nil {
			changed = false
			return nil
		}
		var m Message
		if err := json.Unmarshal(v, &m); err != nil {
			return err
		}
		if m.State == state {
			changed = false
			return nil
		}
		m.State = state
		nv, err := json.Marshal(m)
		if err != nil {
			return err
		}
		changed = true
		return b.Put([]byte(id), nv)
	})
	if err != nil {
		return false, fmt.Errorf("store: set state of %s: %w", id, err)
	}
	return changed, nil
}

// GetMessage reads one message.
func (d *DB) GetMessage(id string) (Message, bool, error) {
	var m Message
	var ok bool
	err := d.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMessages).Get([]byte(id))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &m)
	})
	return m, ok, err
}

// Messages returns up to limit messages exchanged with peer, oldest first, among the
// newest ones (IDs are time-sortable, so a reverse cursor walk is newest first).
func (d *DB) Messages(peer string, limit int) ([]Message, error) {
	var out []Message
	err := d.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketMessages).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var m Message
			if json.Unmarshal(v, &m) != nil {
				continue
			}
			if m.From == peer || m.To == peer {
				out = append(out, m)
			}
		}
		return nil
	})
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}
