package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Room is this node's view of a room it has joined or seen.
type Room struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Topic    string    `json:"topic"`
	TopicHLC uint64    `json:"topic_hlc"` // the newest topic change wins
	Joined   bool      `json:"joined"`
	Created  time.Time `json:"created"`
}

// PutRoom stores a room.
func (d *DB) PutRoom(r Room) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	err = d.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketRooms).Put([]byte(r.ID), v) })
	if err != nil {
		return fmt.Errorf("store: put room %s: %w", r.ID, err)
	}
	return nil
}

// Rooms lists the stored rooms.
func (d *DB) Rooms() ([]Room, error) {
	var out []Room
	err := d.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRooms).ForEach(func(_, v []byte) error {
			var r Room
			if json.Unmarshal(v, &r) == nil {
				out = append(out, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: list rooms: %w", err)
	}
	return out, nil
}
