package store

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Message states. Outgoing: queued → sent → delivered → read. Incoming: received →
// read (by this user).
const (
	StateQueued    = "queued"
	StateSent      = "sent"
	StateDelivered = "delivered"
	StateRead      = "read"
	StateReceived  = "received"
)

// stateRank orders states so a late, smaller receipt never moves a message back.
// An outgoing message is sent (committed and handed to the network) or queued
// (committed while its peer was absent: it waits in the outbox), then delivered,
// then read; queued ranks above sent because it is what was learnt last about a
// message that was first reported sent. Received is an incoming message's first
// state. The skins order what they show by the same ranks (Advances, through
// node.StateAdvances).
var stateRank = map[string]int{StateSent: 1, StateReceived: 1, StateQueued: 2, StateDelivered: 3, StateRead: 4}

// Advances says whether a message in state from moves forward to state to: the
// one ordering of message states, for the store and every skin.
func Advances(from, to string) bool { return stateRank[to] > stateRank[from] }

// Message is one stored message, incoming or outgoing, 1:1 or in a room. Its
// JSON encoding is the bbolt format of the conversation buckets (PutMessage),
// so the tags stay as long as stored data uses them; the headless protocol's
// message is node.Message, with tags of its own.
type Message struct {
	ID    string    `json:"id"`
	Conv  string    `json:"conv"`           // "d:<peer>" or "r:<room>"
	From  string    `json:"from"`           // author peer ID
	To    string    `json:"to,omitempty"`   // recipient of a 1:1 message
	Room  string    `json:"room,omitempty"` // room ID of a room message
	Text  string    `json:"text"`
	HLC   uint64    `json:"hlc"`  // hybrid logical timestamp: the conversation order
	Time  time.Time `json:"time"` // author's wall clock when written
	State string    `json:"state"`
}

// DirectConv is the conversation key of a 1:1 chat with peer.
func DirectConv(peer string) string { return "d:" + peer }

// RoomConv is the conversation key of a room.
func RoomConv(room string) string { return "r:" + room }

func msgKey(hlc uint64, id string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), hlc)
	return append(k, id...)
}

// Tx is one write transaction; the chat layer groups many messages into one so that
// acknowledging each message only after its commit stays fast.
type Tx struct{ tx *bolt.Tx }

// Update runs fn in one committed transaction.
func (d *DB) Update(fn func(*Tx) error) error {
	return d.bolt.Update(func(tx *bolt.Tx) error { return fn(&Tx{tx: tx}) })
}

// idxKey is a message's msgidx key: its ID, 0x00, its author. Messages are
// told apart by (author, ID), not by ID alone: an ID is visible to custodians
// and room members, and with an index by ID alone any of them could deliver a
// message of its own under someone else's ID first, making the real one a
// "duplicate" that was acknowledged and dropped (TestDedupeByAuthorAndID).
func idxKey(from, id string) []byte {
	return append(append(append(make([]byte, 0, len(id)+1+len(from)), id...), 0), from...)
}

// PutMessage stores m unless its (author, ID) is already stored; isNew tells which,
// so a retransmission is acknowledged again but shown once. Two authors' messages
// with the same ID and HLC in one conversation (a room) would share a history key;
// the later one is stored one HLC tick later, which no one can see.
func (t *Tx) PutMessage(m Message) (isNew bool, err error) {
	idx := t.tx.Bucket(bucketMsgIdx)
	ik := idxKey(m.From, m.ID)
	if idx.Get(ik) != nil {
		return false, nil
	}
	conv, err := t.tx.Bucket(bucketConv).CreateBucketIfNotExists([]byte(m.Conv))
	if err != nil {
		return false, err
	}
	key := msgKey(m.HLC, m.ID)
	for conv.Get(key) != nil {
		m.HLC++
		key = msgKey(m.HLC, m.ID)
	}
	v, err := json.Marshal(m)
	if err != nil {
		return false, err
	}
	if err := conv.Put(key, v); err != nil {
		return false, err
	}
	if err := t.putSearch(m); err != nil {
		return false, err
	}
	ref := append(append([]byte(m.Conv), 0), key[:8]...)
	if err := idx.Put(ik, ref); err != nil {
		return false, err
	}
	return true, t.raiseHLC(m.HLC)
}

func (t *Tx) raiseHLC(h uint64) error {
	meta := t.tx.Bucket(bucketMeta)
	if cur := meta.Get(keyHLC); len(cur) == 8 && binary.BigEndian.Uint64(cur) >= h {
		return nil
	}
	return meta.Put(keyHLC, binary.BigEndian.AppendUint64(nil, h))
}

// locate finds a message's conversation bucket and key.
func (t *Tx) locate(from, id string) (*bolt.Bucket, []byte) {
	return t.locateRef(id, t.tx.Bucket(bucketMsgIdx).Get(idxKey(from, id)))
}

func (t *Tx) locateRef(id string, ref []byte) (*bolt.Bucket, []byte) {
	i := bytes.IndexByte(ref, 0)
	if i < 0 || len(ref) != i+9 {
		return nil, nil
	}
	conv := t.tx.Bucket(bucketConv).Bucket(ref[:i])
	if conv == nil {
		return nil, nil
	}
	return conv, msgKey(binary.BigEndian.Uint64(ref[i+1:]), id)
}

// GetMessage reads one message, by author and ID, inside the transaction.
func (t *Tx) GetMessage(from, id string) (Message, bool) {
	return t.read(t.locate(from, id))
}

func (t *Tx) read(b *bolt.Bucket, key []byte) (Message, bool) {
	var m Message
	if b == nil {
		return m, false
	}
	v := b.Get(key)
	if v == nil || json.Unmarshal(v, &m) != nil {
		return m, false
	}
	return m, true
}

// AdvanceState moves a message forward to state (never backwards); changed is false
// when the message is unknown or already there or beyond.
func (t *Tx) AdvanceState(from, id, state string) (m Message, changed bool, err error) {
	b, key := t.locate(from, id)
	if b == nil {
		return m, false, nil
	}
	if err := json.Unmarshal(b.Get(key), &m); err != nil {
		return m, false, err
	}
	if !Advances(m.State, state) {
		return m, false, nil
	}
	m.State = state
	v, err := json.Marshal(m)
	if err != nil {
		return m, false, err
	}
	return m, true, b.Put(key, v)
}

// GetMessage reads one message by ID alone: the first stored under that ID,
// whoever wrote it (for callers that know the conversation, see GetMessageIn).
func (d *DB) GetMessage(id string) (m Message, ok bool, err error) {
	return d.GetMessageIn("", id)
}

// GetMessageIn reads the message with this ID in conversation conv (any
// conversation when conv is empty).
func (d *DB) GetMessageIn(conv, id string) (m Message, ok bool, err error) {
	err = d.bolt.View(func(tx *bolt.Tx) error {
		t := &Tx{tx: tx}
		prefix := append([]byte(id), 0)
		c := tx.Bucket(bucketMsgIdx).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if m, ok = t.read(t.locateRef(id, v)); ok && (conv == "" || m.Conv == conv) {
				return nil
			}
		}
		m, ok = Message{}, false
		return nil
	})
	return m, ok, err
}

// GetMessageFrom reads one message by author and ID.
func (d *DB) GetMessageFrom(from, id string) (m Message, ok bool, err error) {
	err = d.bolt.View(func(tx *bolt.Tx) error {
		m, ok = (&Tx{tx: tx}).GetMessage(from, id)
		return nil
	})
	return m, ok, err
}

// LastHLC is the highest timestamp ever stored, so a restarted node's clock never
// issues a timestamp below what it already wrote.
func (d *DB) LastHLC() (h uint64, err error) {
	err = d.bolt.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyHLC); len(v) == 8 {
			h = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return h, err
}

// Cursor marks a position in a conversation for paging: the HLC and ID of the
// oldest message of the previous page, as "hlc-id" text.
type Cursor string

func cursorOf(m Message) Cursor { return Cursor(fmt.Sprintf("%016x-%s", m.HLC, m.ID)) }

func (c Cursor) key() ([]byte, error) {
	if len(c) < 18 || c[16] != '-' {
		return nil, fmt.Errorf("bad history cursor %q", string(c))
	}
	raw, err := hex.DecodeString(string(c[:16]))
	if err != nil {
		return nil, fmt.Errorf("bad history cursor %q", string(c))
	}
	return append(raw, c[17:]...), nil
}

// Page is one page of history, oldest first. Next, when not empty, fetches the page
// before it.
type Page struct {
	Messages []Message
	Next     Cursor
}

// History returns up to limit messages of a conversation that come before the
// cursor (or the newest ones when it is empty), oldest first.
func (d *DB) History(conv string, before Cursor, limit int) (Page, error) {
	var p Page
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	var start []byte
	if before != "" {
		k, err := before.key()
		if err != nil {
			return p, err
		}
		start = k
	}
	err := d.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConv).Bucket([]byte(conv))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		var k, v []byte
		if start == nil {
			k, v = c.Last()
		} else {
			k, v = c.Seek(start)
			if k == nil {
				k, v = c.Last()
			}
			for k != nil && bytes.Compare(k, start) >= 0 {
				k, v = c.Prev()
			}
		}
		for ; k != nil && len(p.Messages) < limit; k, v = c.Prev() {
			var m Message
			if json.Unmarshal(v, &m) == nil {
				p.Messages = append(p.Messages, m)
			}
		}
		if k != nil && len(p.Messages) > 0 {
			p.Next = cursorOf(p.Messages[len(p.Messages)-1])
		}
		return nil
	})
	for i, j := 0, len(p.Messages)-1; i < j; i, j = i+1, j-1 {
		p.Messages[i], p.Messages[j] = p.Messages[j], p.Messages[i]
	}
	if err != nil {
		return p, fmt.Errorf("store: history of %s: %w", conv, err)
	}
	return p, nil
}

// migrateV1ToV2 moves schema-1 messages (one flat bucket) into per-conversation
// buckets and creates the new buckets.
func migrateV1ToV2(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketConv, bucketMsgIdx, bucketOutbox, bucketRooms} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	old := tx.Bucket(bucketMessages)
	if old == nil {
		return nil
	}
	t := &Tx{tx: tx}
	now := time.Now().UnixMilli()
	err := old.ForEach(func(_, v []byte) error {
		// Schema 1 wrote {id,from,to,text,time,state}: a subset of Message.
		var msg Message
		if json.Unmarshal(v, &msg) != nil || msg.ID == "" {
			return nil
		}
		peer := msg.To
		if msg.State == StateReceived {
			peer = msg.From
		}
		msg.Conv = DirectConv(peer)
		// Schema 1 kept the sender's claimed time: clamp it into [0, now] so a
		// skewed or hostile clock cannot become the store's newest HLC (which seeds
		// the clock on every start).
		msg.HLC = uint64(min(max(msg.Time.UnixMilli(), 0), now)) << 16
		_, err := t.PutMessage(msg)
		return err
	})
	if err != nil {
		return err
	}
	return tx.DeleteBucket(bucketMessages)
}

// migrateV4ToV5 rekeys the message index from the ID alone to (ID, author)
// (idxKey), reading each message's author from its history entry, and adds the
// custody index (custody.go).
func migrateV4ToV5(tx *bolt.Tx) error {
	old := tx.Bucket(bucketMsgIdx)
	type entry struct{ key, ref []byte }
	var moved []entry
	t := &Tx{tx: tx}
	err := old.ForEach(func(k, v []byte) error {
		id := string(k)
		m, ok := t.read(t.locateRef(id, v))
		if i := bytes.IndexByte(k, 0); !ok && i >= 0 {
			// Written by migrateV1ToV2 through this build's PutMessage: already
			// keyed (ID, author).
			id = string(k[:i])
			m, ok = t.read(t.locateRef(id, v))
		}
		if !ok {
			return nil // an entry without its message indexes nothing
		}
		moved = append(moved, entry{idxKey(m.From, id), append([]byte(nil), v...)})
		return nil
	})
	if err != nil {
		return err
	}
	if err := tx.DeleteBucket(bucketMsgIdx); err != nil {
		return err
	}
	idx, err := tx.CreateBucket(bucketMsgIdx)
	if err != nil {
		return err
	}
	for _, e := range moved {
		if err := idx.Put(e.key, e.ref); err != nil {
			return err
		}
	}
	return migrateCustodyIndex(tx)
}
