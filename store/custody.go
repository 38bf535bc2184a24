package store

import (
	"bytes"
	"encoding/binary"
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

// heldKey is recipient "|" message ID "|" sender: messages are told apart by
// (author, ID) here too, so a sender that reuses someone else's message ID
// cannot have its envelope stand in for the real one (schema 4 and before
// keyed by recipient and ID alone).
func heldKey(to, id, from string) []byte { return []byte(to + "|" + id + "|" + from) }

// heldMeta is what the limits need of one held envelope, kept in the custody
// index (custidx) so that checking them never decodes a Held: before, every
// request decoded the whole store (up to 16 MiB of JSON) inside a write
// transaction (BenchmarkPutHeldFull re-measures it).
type heldMeta struct {
	expires int64 // unix ms
	size    uint32
	from    string
}

func (h heldMeta) encode() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 12+len(h.from)), uint64(h.expires))
	b = binary.BigEndian.AppendUint32(b, h.size)
	return append(b, h.from...)
}

func decodeHeldMeta(b []byte) (heldMeta, bool) {
	if len(b) < 12 {
		return heldMeta{}, false
	}
	return heldMeta{expires: int64(binary.BigEndian.Uint64(b)), size: binary.BigEndian.Uint32(b[8:]), from: string(b[12:])}, true
}

func metaOf(h Held) heldMeta {
	return heldMeta{expires: h.Expires.UnixMilli(), size: uint32(len(h.Envelope)), from: h.From}
}

// PutHeld stores an envelope within the limits; a repeat of a held ID is accepted
// without storing twice. Expired entries are purged first. When the store is
// full, the sender holding the most gives way: its entry that expires first is
// evicted (evicted counts them), as long as that sender would still hold more
// than the new one's sender. So throwaway senders can fill the store only until
// an honest sender asks: they never lock it out, they can only dilute each
// sender's share to MaxEntries/senders (TestCustodyFairShareEviction).
func (d *DB) PutHeld(h Held, lim CustodyLimits, now time.Time) (evicted int, err error) {
	err = d.bolt.Update(func(tx *bolt.Tx) error {
		b, idx := tx.Bucket(bucketCustody), tx.Bucket(bucketCustIdx)
		key := heldKey(h.To, h.ID, h.From)
		if b.Get(key) != nil {
			return nil
		}
		var n int
		var size int64
		perSender := map[string][]heldEntry{}
		var expired [][]byte
		err := idx.ForEach(func(k, v []byte) error {
			m, ok := decodeHeldMeta(v)
			if !ok || now.UnixMilli() > m.expires {
				expired = append(expired, append([]byte(nil), k...))
				return nil
			}
			n++
			size += int64(m.size)
			perSender[m.from] = append(perSender[m.from], heldEntry{append([]byte(nil), k...), m})
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range expired {
			if err := deleteHeld(tx, k); err != nil {
				return err
			}
		}
		if len(perSender[h.From])+1 > lim.MaxPerSender {
			return ErrCustodyFull
		}
		for n+1 > lim.MaxEntries || size+int64(len(h.Envelope)) > lim.MaxBytes {
			// The sender holding most, unless that is (or ties with) the newcomer.
			var top string
			for from, held := range perSender {
				if len(held) > len(perSender[top]) || (len(held) == len(perSender[top]) && from < top) {
					top = from
				}
			}
			if top == "" || len(perSender[top]) <= len(perSender[h.From])+1 {
				return ErrCustodyFull
			}
			held := perSender[top]
			first := 0
			for i, e := range held {
				if e.meta.expires < held[first].meta.expires {
					first = i
				}
			}
			if err := deleteHeld(tx, held[first].key); err != nil {
				return err
			}
			n--
			size -= int64(held[first].meta.size)
			perSender[top] = append(held[:first], held[first+1:]...)
			evicted++
		}
		v, err := json.Marshal(h)
		if err != nil {
			return err
		}
		if err := idx.Put(key, metaOf(h).encode()); err != nil {
			return err
		}
		return b.Put(key, v)
	})
	if err != nil {
		evicted = 0
	}
	return evicted, err
}

type heldEntry struct {
	key  []byte
	meta heldMeta
}

func deleteHeld(tx *bolt.Tx, key []byte) error {
	if err := tx.Bucket(bucketCustIdx).Delete(key); err != nil {
		return err
	}
	return tx.Bucket(bucketCustody).Delete(key)
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

// DeleteHeld drops the envelopes held for recipient to under message ID id (of
// any sender: the recipient says which ID it committed, and only a sender that
// copied someone else's ID has a second one).
func (d *DB) DeleteHeld(to, id string) (existed bool, err error) {
	err = d.bolt.Update(func(tx *bolt.Tx) error {
		prefix := []byte(to + "|" + id + "|")
		var keys [][]byte
		c := tx.Bucket(bucketCustody).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			if err := deleteHeld(tx, k); err != nil {
				return err
			}
		}
		existed = len(keys) > 0
		return nil
	})
	return existed, err
}

// migrateCustodyIndex rekeys a schema-4 custody store (recipient "|" ID, now
// heldKey) and builds its index: the one time held envelopes are decoded for
// their limits. An unreadable entry is indexed as expired, so it is purged.
func migrateCustodyIndex(tx *bolt.Tx) error {
	idx, err := tx.CreateBucketIfNotExists(bucketCustIdx)
	if err != nil {
		return err
	}
	b := tx.Bucket(bucketCustody)
	type entry struct{ old, key, val, meta []byte }
	var all []entry
	err = b.ForEach(func(k, v []byte) error {
		var h Held
		e := entry{old: append([]byte(nil), k...), key: append([]byte(nil), k...), val: append([]byte(nil), v...), meta: heldMeta{}.encode()}
		if json.Unmarshal(v, &h) == nil {
			e.key, e.meta = heldKey(h.To, h.ID, h.From), metaOf(h).encode()
		}
		all = append(all, e)
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range all {
		if err := b.Delete(e.old); err != nil {
			return err
		}
	}
	for _, e := range all {
		if err := b.Put(e.key, e.val); err != nil {
			return err
		}
		if err := idx.Put(e.key, e.meta); err != nil {
			return err
		}
	}
	return nil
}
