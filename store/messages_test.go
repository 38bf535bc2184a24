package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// put stores messages in one transaction and returns isNew for each.
func put(t *testing.T, d *DB, ms ...Message) []bool {
	t.Helper()
	news := make([]bool, len(ms))
	err := d.Update(func(tx *Tx) error {
		for i, m := range ms {
			isNew, err := tx.PutMessage(m)
			if err != nil {
				return err
			}
			news[i] = isNew
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return news
}

func ids(ms []Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestPutMessageIdempotentByID(t *testing.T) {
	d, _ := openTemp(t)
	m := Message{ID: "01HX", Conv: DirectConv("bob"), From: "bob", To: "alice", Text: "hello", HLC: 5 << 16, Time: time.UnixMilli(1000).UTC(), State: StateReceived}
	if news := put(t, d, m); !news[0] {
		t.Fatal("first PutMessage: isNew false")
	}
	// A retransmission (even with other content, in another conversation and at
	// another HLC) is recognised by its ID and changes nothing.
	dup := m
	dup.Text, dup.Conv, dup.HLC = "changed", RoomConv("r1"), 9<<16
	if news := put(t, d, dup, dup); news[0] || news[1] {
		t.Fatalf("duplicate PutMessage: isNew %v", news)
	}
	got, ok, err := d.GetMessage("01HX")
	if !ok || err != nil || got.Text != "hello" || got.Conv != DirectConv("bob") || got.HLC != 5<<16 || !got.Time.Equal(m.Time) {
		t.Fatalf("stored %+v, %v, %v", got, ok, err)
	}
	if p, err := d.History(RoomConv("r1"), "", 10); err != nil || len(p.Messages) != 0 {
		t.Fatalf("duplicate landed in the other conversation: %+v, %v", p, err)
	}
	if h, _ := d.LastHLC(); h != 5<<16 {
		t.Fatalf("a refused duplicate raised LastHLC to %d", h)
	}
	if _, ok, err := d.GetMessage("nope"); ok || err != nil {
		t.Fatalf("unknown message: ok %v, err %v", ok, err)
	}
	// Within one transaction the second of two same-ID puts is the duplicate.
	if news := put(t, d, Message{ID: "x", Conv: "d:c"}, Message{ID: "x", Conv: "d:c"}); !news[0] || news[1] {
		t.Fatalf("same ID twice in one tx: isNew %v", news)
	}
}

func TestPutMessageConcurrentDuplicates(t *testing.T) {
	// Many writers race to store one ID; exactly one of them may see isNew.
	d, _ := openTemp(t)
	var wg sync.WaitGroup
	news := make(chan bool, 20)
	for range 20 {
		wg.Go(func() {
			err := d.Update(func(tx *Tx) error {
				isNew, err := tx.PutMessage(Message{ID: "same", Conv: "d:p", Text: "x"})
				news <- isNew
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(news)
	n := 0
	for v := range news {
		if v {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d writers were told the message was new, want 1", n)
	}
}

func TestHistoryPaging(t *testing.T) {
	d, _ := openTemp(t)
	conv := DirectConv("bob")
	var all []Message
	for i := range 120 {
		all = append(all, Message{ID: fmt.Sprintf("m%03d", i), Conv: conv, Text: fmt.Sprint(i), HLC: uint64(1000+i) << 16})
	}
	// Another conversation interleaved must not leak in.
	var other []Message
	for i := range 30 {
		other = append(other, Message{ID: fmt.Sprintf("o%03d", i), Conv: DirectConv("carol"), HLC: uint64(1000+i) << 16})
	}
	put(t, d, append(slices.Clone(all), other...)...)

	var pages [][]string
	var cursor Cursor
	for range 10 {
		p, err := d.History(conv, cursor, 50)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, ids(p.Messages))
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	want := [][]string{ids(all[70:120]), ids(all[20:70]), ids(all[0:20])}
	if fmt.Sprint(pages) != fmt.Sprint(want) {
		t.Fatalf("pages:\n got %v\nwant %v", pages, want)
	}
	// The full message comes back, not just its ID.
	p, _ := d.History(conv, "", 1)
	if len(p.Messages) != 1 || p.Messages[0].Text != "119" || p.Messages[0].Conv != conv || p.Next == "" {
		t.Fatalf("newest page of 1: %+v", p)
	}
	// A page that ends exactly at the oldest message has no Next.
	p, err := d.History(conv, "", 120)
	if err != nil || len(p.Messages) != 120 || p.Next != "" {
		t.Fatalf("page of exactly all messages: %d messages, next %q, %v", len(p.Messages), p.Next, err)
	}
	// A non-positive or excessive limit means the default page of 50.
	for _, limit := range []int{0, -1, 1001} {
		if p, _ := d.History(conv, "", limit); len(p.Messages) != 50 {
			t.Fatalf("limit %d: %d messages, want 50", limit, len(p.Messages))
		}
	}
	// A cursor naming a position between two keys still pages from there.
	p, err = d.History(conv, Cursor(fmt.Sprintf("%016x-zzz", uint64(1050)<<16)), 3)
	if err != nil || fmt.Sprint(ids(p.Messages)) != "[m048 m049 m050]" {
		t.Fatalf("cursor between keys: %v, %v", ids(p.Messages), err)
	}
	// A cursor past the newest message behaves like the newest page.
	p, err = d.History(conv, Cursor(fmt.Sprintf("%016x-a", uint64(1)<<60)), 2)
	if err != nil || fmt.Sprint(ids(p.Messages)) != "[m118 m119]" {
		t.Fatalf("cursor past the end: %v, %v", ids(p.Messages), err)
	}
	// A cursor before the oldest message yields an empty last page.
	p, err = d.History(conv, Cursor(fmt.Sprintf("%016x-a", 1)), 2)
	if err != nil || len(p.Messages) != 0 || p.Next != "" {
		t.Fatalf("cursor before the start: %+v, %v", p, err)
	}
}

func TestHistoryOrderIsHLCNotInsertion(t *testing.T) {
	d, _ := openTemp(t)
	conv := RoomConv("r")
	hlcs := rand.Perm(40)
	for _, h := range hlcs {
		// Each in its own commit, in random order; IDs sort opposite to HLC.
		put(t, d, Message{ID: fmt.Sprintf("z%03d", 100-h), Conv: conv, HLC: uint64(h+1) << 16, Text: fmt.Sprint(h)})
	}
	// Equal HLCs are ordered by ID.
	put(t, d, Message{ID: "b-tie", Conv: conv, HLC: 20 << 16, Text: "tie b"}, Message{ID: "a-tie", Conv: conv, HLC: 20 << 16, Text: "tie a"})
	var got []uint64
	var texts []string
	for cursor := Cursor(""); ; {
		p, err := d.History(conv, cursor, 7)
		if err != nil {
			t.Fatal(err)
		}
		var page []uint64
		for _, m := range p.Messages {
			page = append(page, m.HLC)
		}
		got = append(page, got...)
		for i := len(p.Messages) - 1; i >= 0; i-- {
			texts = append([]string{p.Messages[i].Text}, texts...)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(got) != 42 || !slices.IsSorted(got) {
		t.Fatalf("history HLCs not ascending: %v", got)
	}
	i := slices.Index(texts, "tie a")
	if i < 0 || texts[i+1] != "tie b" || texts[i+2] != "19" {
		t.Fatalf("equal HLCs not ordered by ID around %d: %v", i, texts)
	}
}

func TestHistoryBadCursorAndUnknownConversation(t *testing.T) {
	d, _ := openTemp(t)
	put(t, d, Message{ID: "m", Conv: "d:bob", HLC: 1})
	for _, c := range []Cursor{"x", "0000000000000001", "0000000000000001-", "0000000000000001xm", "zz00000000000001-m", "00000000000001-mmm"} {
		if p, err := d.History("d:bob", c, 10); err == nil {
			t.Errorf("cursor %q accepted: %+v", c, p)
		}
	}
	p, err := d.History("d:nobody", "", 10)
	if err != nil || len(p.Messages) != 0 || p.Next != "" {
		t.Fatalf("unknown conversation: %+v, %v", p, err)
	}
	p, err = d.History("d:nobody", Cursor(fmt.Sprintf("%016x-m", 5)), 10)
	if err != nil || len(p.Messages) != 0 {
		t.Fatalf("unknown conversation with cursor: %+v, %v", p, err)
	}
}

// FuzzCursor: any cursor string either fails to parse or History accepts it, and a
// cursor built from a parsed key parses to the same key.
func FuzzCursor(f *testing.F) {
	for _, c := range []string{"", "x", "0000000000000001-", "0000000000000001-m", "ffffffffffffffff-ID", "FFFFFFFFFFFFFFFF-é", "zz00000000000001-m"} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Cursor(s).key()
		if err != nil {
			return
		}
		if len(k) < 9 {
			t.Fatalf("cursor %q parsed to a %d-byte key", s, len(k))
		}
		var m Message
		m.HLC = uint64(k[0])<<56 | uint64(k[1])<<48 | uint64(k[2])<<40 | uint64(k[3])<<32 | uint64(k[4])<<24 | uint64(k[5])<<16 | uint64(k[6])<<8 | uint64(k[7])
		m.ID = string(k[8:])
		k2, err := cursorOf(m).key()
		if err != nil || string(k2) != string(k) {
			t.Fatalf("cursor %q: key %x, re-made cursor %q gives %x, %v", s, k, cursorOf(m), k2, err)
		}
	})
}

func TestAdvanceStateNeverBackwards(t *testing.T) {
	d, _ := openTemp(t)
	put(t, d, Message{ID: "out", Conv: "d:bob", To: "bob", Text: "hi", HLC: 1, State: StateSent},
		Message{ID: "in", Conv: "d:bob", From: "bob", Text: "yo", HLC: 2, State: StateReceived})
	steps := []struct {
		id, state string
		changed   bool
		after     string
	}{
		{"out", StateSent, false, StateSent},
		{"out", StateQueued, true, StateQueued}, // reported sent, then found absent
		{"out", StateSent, false, StateQueued},
		{"out", StateDelivered, true, StateDelivered},
		{"out", StateSent, false, StateDelivered}, // a late "sent" after the ack
		{"out", StateDelivered, false, StateDelivered},
		{"out", StateRead, true, StateRead},
		{"out", StateDelivered, false, StateRead}, // a late ack after the read receipt
		{"in", StateReceived, false, StateReceived},
		{"in", StateRead, true, StateRead},
		{"in", StateReceived, false, StateRead},
		{"unknown", StateDelivered, false, ""},
	}
	for _, s := range steps {
		var m Message
		var changed bool
		err := d.Update(func(tx *Tx) error {
			var err error
			from := ""
			if s.id == "in" {
				from = "bob"
			}
			m, changed, err = tx.AdvanceState(from, s.id, s.state)
			return err
		})
		if err != nil || changed != s.changed || m.State != s.after {
			t.Fatalf("AdvanceState(%s, %s) = state %q, changed %v, %v; want %q, %v", s.id, s.state, m.State, changed, err, s.after, s.changed)
		}
		if got, _, _ := d.GetMessage(s.id); got.State != s.after {
			t.Fatalf("after AdvanceState(%s, %s) stored state %q, want %q", s.id, s.state, got.State, s.after)
		}
	}
	m, _, _ := d.GetMessage("out")
	if m.Text != "hi" || m.To != "bob" || m.Conv != "d:bob" {
		t.Fatalf("AdvanceState changed other fields: %+v", m)
	}
	if p, _ := d.History("d:bob", "", 10); fmt.Sprint(ids(p.Messages)) != "[out in]" || p.Messages[0].State != StateRead {
		t.Fatalf("history after state changes: %+v", p.Messages)
	}
	if _, ok, _ := d.GetMessage("unknown"); ok {
		t.Fatal("AdvanceState created a message")
	}
}

func TestLastHLCTracksMax(t *testing.T) {
	d, dir := openTemp(t)
	if h, err := d.LastHLC(); h != 0 || err != nil {
		t.Fatalf("fresh LastHLC = %d, %v", h, err)
	}
	steps := []struct{ hlc, want uint64 }{{50, 50}, {20, 50}, {50, 50}, {1 << 40, 1 << 40}, {7, 1 << 40}}
	for i, s := range steps {
		put(t, d, Message{ID: fmt.Sprint(i), Conv: "d:p", HLC: s.hlc})
		if h, err := d.LastHLC(); h != s.want || err != nil {
			t.Fatalf("after HLC %d: LastHLC = %d, %v; want %d", s.hlc, h, err, s.want)
		}
	}
	// A batch raises it to its own maximum, wherever that sits in the batch.
	put(t, d, Message{ID: "b1", Conv: "d:p", HLC: 1<<41 + 1}, Message{ID: "b2", Conv: "d:p", HLC: 1 << 41})
	d.Close()
	d2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if h, _ := d2.LastHLC(); h != 1<<41+1 {
		t.Fatalf("LastHLC after reopen = %d", h)
	}
}

func TestUpdateRollsBackOnError(t *testing.T) {
	d, _ := openTemp(t)
	boom := errors.New("boom")
	err := d.Update(func(tx *Tx) error {
		if _, err := tx.PutMessage(Message{ID: "m", Conv: "d:p", HLC: 99}); err != nil {
			return err
		}
		if err := tx.PutOutbox(OutboxEntry{ID: "m", To: "p"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	if _, ok, _ := d.GetMessage("m"); ok {
		t.Fatal("message of a failed transaction was stored")
	}
	if n, _ := d.OutboxLen(); n != 0 {
		t.Fatalf("outbox of a failed transaction has %d entries", n)
	}
	if h, _ := d.LastHLC(); h != 0 {
		t.Fatalf("LastHLC of a failed transaction = %d", h)
	}
	// And the ID is still free.
	if news := put(t, d, Message{ID: "m", Conv: "d:p"}); !news[0] {
		t.Fatal("ID of a rolled-back message is taken")
	}
}

// writeSchema1 builds a data dir as schema 1 wrote it: flat "messages" bucket keyed
// by message ID with the old JSON shape.
func writeSchema1(t *testing.T, dir string, msgs map[string]string) {
	t.Helper()
	b, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"meta", "settings", "roster", "messages"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		if err := tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("1")); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("settings")).Put([]byte("name"), []byte("alice")); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("roster")).Put([]byte("bob"), []byte(`{"id":"bob","name":"Bob"}`)); err != nil {
			return err
		}
		for id, v := range msgs {
			if err := tx.Bucket([]byte("messages")).Put([]byte(id), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func v1Message(id, from, to, text string, at time.Time, state string) string {
	v, _ := json.Marshal(map[string]any{"id": id, "from": from, "to": to, "text": text, "time": at, "state": state})
	return string(v)
}

func TestMigrateV1ToV2(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	writeSchema1(t, dir, map[string]string{
		"01A": v1Message("01A", "alice", "bob", "hi bob", at(1), StateDelivered),
		"01B": v1Message("01B", "bob", "alice", "hi alice", at(2), StateReceived),
		"01C": v1Message("01C", "alice", "bob", "still there?", at(3), StateSent),
		"01D": v1Message("01D", "carol", "alice", "from carol", at(4), StateReceived),
		"01E": v1Message("01E", "alice", "carol", "to carol", at(5), StateSent),
		"01F": v1Message("01F", "alice", "bob", "same ms", at(3), StateSent),
		"bad": `{not json`,
		// A v1 receiver stored the sender's claimed time; one from the far future
		// must not become the newest HLC of the store (it would drag the clock).
		"01G": v1Message("01G", "carol", "alice", "from the future", t0.AddDate(100, 0, 0), StateReceived),
	})
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A closure: d is reopened below, and that second handle must be closed too
	// (Windows cannot remove the temp folder of an open file; seen under Wine).
	defer func() { d.Close() }()
	if v, err := d.Schema(); v != SchemaVersion || err != nil {
		t.Fatalf("schema after migration = %d, %v; want %d", v, err, SchemaVersion)
	}
	type row struct{ ID, From, To, Text, State, Conv string }
	hist := func(conv string) []row {
		p, err := d.History(conv, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []row
		for _, m := range p.Messages {
			out = append(out, row{m.ID, m.From, m.To, m.Text, m.State, m.Conv})
		}
		return out
	}
	wantBob := []row{
		{"01A", "alice", "bob", "hi bob", StateDelivered, "d:bob"},
		{"01B", "bob", "alice", "hi alice", StateReceived, "d:bob"},
		{"01C", "alice", "bob", "still there?", StateSent, "d:bob"},
		{"01F", "alice", "bob", "same ms", StateSent, "d:bob"},
	}
	if got := hist("d:bob"); fmt.Sprint(got) != fmt.Sprint(wantBob) {
		t.Fatalf("d:bob after migration:\n got %v\nwant %v", got, wantBob)
	}
	wantCarol := []row{
		{"01D", "carol", "alice", "from carol", StateReceived, "d:carol"},
		{"01E", "alice", "carol", "to carol", StateSent, "d:carol"},
		{"01G", "carol", "alice", "from the future", StateReceived, "d:carol"},
	}
	if got := hist("d:carol"); fmt.Sprint(got) != fmt.Sprint(wantCarol) {
		t.Fatalf("d:carol after migration:\n got %v\nwant %v", got, wantCarol)
	}
	if got := hist("d:alice"); len(got) != 0 {
		t.Fatalf("messages filed under the own ID: %v", got)
	}
	m, ok, _ := d.GetMessage("01A")
	if !ok || !m.Time.Equal(at(1)) || m.HLC>>16 != uint64(at(1).UnixMilli()) {
		t.Fatalf("migrated message time/HLC: %+v", m)
	}
	if h, _ := d.LastHLC(); h>>16 > uint64(time.Now().UnixMilli()) {
		t.Fatalf("LastHLC after migration is in the future: %d ms", h>>16)
	}
	err = d.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("messages")) != nil {
			return errors.New(`"messages" bucket still there`)
		}
		for _, b := range [][]byte{bucketConv, bucketMsgIdx, bucketOutbox, bucketRooms} {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("bucket %s missing", b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The rest of the file is untouched, and the new buckets work.
	if v, _, _ := d.Setting("name"); v != "alice" {
		t.Fatalf("setting after migration = %q", v)
	}
	if p, ok, _ := d.GetPeer("bob"); !ok || p.Name != "Bob" {
		t.Fatalf("roster after migration: %+v %v", p, ok)
	}
	if news := put(t, d, Message{ID: "01A", From: "alice", Conv: "d:bob"}); news[0] {
		t.Fatal("migrated message ID not indexed: duplicate accepted")
	}
	// Reopening does not migrate again.
	d.Close()
	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := hist("d:bob"); fmt.Sprint(got) != fmt.Sprint(wantBob) {
		t.Fatalf("d:bob after reopen: %v", got)
	}
}

func TestMigrateV1Empty(t *testing.T) {
	dir := t.TempDir()
	writeSchema1(t, dir, nil)
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v, _ := d.Schema(); v != SchemaVersion {
		t.Fatalf("schema = %d", v)
	}
	if n, err := d.OutboxLen(); n != 0 || err != nil {
		t.Fatalf("outbox after migrating an empty file: %d, %v", n, err)
	}
	if rooms, err := d.Rooms(); len(rooms) != 0 || err != nil {
		t.Fatalf("rooms after migrating an empty file: %v, %v", rooms, err)
	}
	if !strings.HasSuffix(d.Path(), FileName) {
		t.Fatal(d.Path())
	}
}
