// Package store keeps Parley's durable state in one bbolt file in the data dir:
// the roster of every peer ever seen, own settings, and messages.
//
// Layout (bucket → key → value):
//
//	meta     "schema"           decimal schema version
//	         "hlc"              8 bytes: the highest hybrid-logical timestamp stored
//	settings name               UTF-8 value
//	roster   peer ID text       JSON Peer
//	conv     conversation key → nested bucket: HLC (8 bytes) + message ID → JSON Message
//	msgidx   message ID 0x00 author  conversation key, 0x00, HLC (8 bytes): dedupe and lookups
//	         (schema 4 and before: keyed by the message ID alone)
//	outbox   message ID "|" peer → JSON OutboxEntry (waiting for that peer's ack)
//	rooms    room ID            JSON Room
//	custody  recipient "|" message ID → JSON Held (sealed envelopes kept for others)
//	custidx  recipient "|" message ID → [expires unix ms u64][envelope bytes u32][sender]
//	         (what the custody limits need, without decoding envelopes; schema 5)
//	xfers, xfoffer, xfhave  file transfers (transfers.go)
//	search   HLC (8 bytes) + conversation key 0x00 message ID → folded text (search.go; schema 6)
//
// Conversation keys are "d:<peer id>" for 1:1 chats and "r:<room id>" for rooms, so a
// conversation's history is one ordered cursor walk.
//
// bbolt holds an exclusive file lock while open; a second instance on the same data
// dir fails fast with ErrInUse instead of hanging.
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the database file inside the data dir.
const FileName = "parley.db"

// SchemaVersion is the layout this build writes.
const SchemaVersion = 6

var (
	bucketMeta     = []byte("meta")
	bucketSettings = []byte("settings")
	bucketRoster   = []byte("roster")
	bucketMessages = []byte("messages") // schema 1 only
	bucketConv     = []byte("conv")
	bucketMsgIdx   = []byte("msgidx")
	bucketOutbox   = []byte("outbox")
	bucketRooms    = []byte("rooms")
	bucketCustody  = []byte("custody")
	bucketCustIdx  = []byte("custidx")
	keyHLC         = []byte("hlc")
	keySchema      = []byte("schema")
)

// ErrInUse means another Parley process has the data dir open.
var ErrInUse = errors.New("data dir is in use by another Parley instance")

// DB is the open store.
type DB struct {
	bolt *bolt.DB
	path string
	// roster counts writes to the roster (RosterVersion).
	roster atomic.Uint64
}

// Open opens (creating if needed) the store in dir and migrates it.
func Open(dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 300 * time.Millisecond})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("store: %w (%s is locked; quit the other instance or use another --data dir)", ErrInUse, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	d := &DB{bolt: b, path: path}
	if err := d.migrate(); err != nil {
		b.Close()
		return nil, err
	}
	return d, nil
}

// Path is the database file.
func (d *DB) Path() string { return d.path }

// Close releases the file and its lock.
func (d *DB) Close() error { return d.bolt.Close() }

// migrate brings an older file up to SchemaVersion and refuses a newer one, which
// this build would misread.
func (d *DB) migrate() error {
	return d.bolt.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("store: meta bucket: %w", err)
		}
		have := 0
		if v := meta.Get(keySchema); v != nil {
			if have, err = strconv.Atoi(string(v)); err != nil {
				return fmt.Errorf("store: schema version %q is corrupt", v)
			}
		}
		if have > SchemaVersion {
			return fmt.Errorf("store: %s has schema %d, newer than this Parley understands (%d); upgrade Parley", d.path, have, SchemaVersion)
		}
		for v := have; v < SchemaVersion; v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("store: migrate schema %d→%d: %w", v, v+1, err)
			}
		}
		return meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
	})
}

// migrations[v] moves a file from schema v to v+1.
var migrations = []func(*bolt.Tx) error{
	func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketSettings, bucketRoster, bucketMessages} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	},
	migrateV1ToV2,
	func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketCustody)
		return err
	},
	migrateV3ToV4, // transfers.go
	migrateV4ToV5, // messages.go: msgidx keyed by (ID, author); custody index
	migrateV5ToV6, // search.go: every message's folded text
}

// Schema reads the stored schema version.
func (d *DB) Schema() (int, error) {
	var v int
	err := d.bolt.View(func(tx *bolt.Tx) error {
		var err error
		v, err = strconv.Atoi(string(tx.Bucket(bucketMeta).Get(keySchema)))
		return err
	})
	return v, err
}

// Setting reads one setting; ok is false when unset.
func (d *DB) Setting(key string) (value string, ok bool, err error) {
	err = d.bolt.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketSettings).Get([]byte(key)); v != nil {
			value, ok = string(v), true
		}
		return nil
	})
	return value, ok, err
}

// SetSetting stores one setting.
func (d *DB) SetSetting(key, value string) error {
	err := d.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSettings).Put([]byte(key), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("store: set %s: %w", key, err)
	}
	return nil
}
