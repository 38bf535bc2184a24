package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Hello World":     "hello world",
		"Café":            "cafe",
		"CAFÉ":            "cafe",
		"cafe\u0301":      "cafe", // already decomposed
		"Straße":          "strasse",
		"Zoë Ångström":    "zoe angstrom",
		"ﬁle":             "file",
		"Ｐａｒｌｅｙ":          "parley",
		"ΣΊΣΥΦΟΣ σίσυφος": "σισυφοσ σισυφοσ",
		"Ça va? Déjà vu!": "ca va? deja vu!",
		"İstanbul":        "istanbul",
		"ᏣᎳᎩ ꮳꮃꭹ":         "ᏣᎳᎩ ᏣᎳᎩ", // Cherokee folds to its capitals
		"":                "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzFold: folding never panics, always gives valid UTF-8, and is idempotent
// (a folded query matches folded text the same way twice).
func FuzzFold(f *testing.F) {
	for _, s := range []string{"Café", "Straße", "\xff\xfe", "ﬁ", "İı", "ǅ", "ΐ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := Fold(s)
		if !utf8.ValidString(once) {
			t.Fatalf("Fold(%q) = %q, not UTF-8", s, once)
		}
		if twice := Fold(once); twice != once {
			t.Fatalf("Fold not idempotent: %q → %q → %q", s, once, twice)
		}
	})
}

func msg(id, conv, text string, hlc uint64) Message {
	return Message{ID: id, Conv: conv, From: "bob", Text: text, HLC: hlc, Time: time.UnixMilli(int64(hlc)).UTC(), State: StateReceived}
}

func TestSearchAcrossConversations(t *testing.T) {
	d, _ := openTemp(t)
	put(t, d,
		msg("m1", DirectConv("bob"), "Meet at the Café at noon?", 10),
		msg("m2", RoomConv("ops"), "the cafe is closed today", 20),
		msg("m3", DirectConv("carol"), "CAFÉ again, same place", 30),
		msg("m4", DirectConv("bob"), "nothing to see here", 40),
		msg("m5", RoomConv("ops"), "Straßenfest on Sunday", 50),
		// Same HLC, same conversation: PutMessage stores m7 one tick later, and
		// search must still find it where it was put.
		msg("m6", RoomConv("ops"), "meeting notes", 60),
		msg("m7", RoomConv("ops"), "meeting moved", 60),
	)
	search := func(q string, limit int) []string {
		t.Helper()
		ms, err := d.Search(q, limit)
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		for _, m := range ms {
			if !strings.Contains(Fold(m.Text), Fold(strings.Fields(q)[0])) {
				t.Errorf("Search(%q) returned %q", q, m.Text)
			}
		}
		return ids(ms)
	}
	for _, tc := range []struct {
		q     string
		limit int
		want  []string
	}{
		{"cafe", 0, []string{"m3", "m2", "m1"}}, // newest first, every conversation
		{"CAFÉ", 0, []string{"m3", "m2", "m1"}},
		{"café noon", 0, []string{"m1"}}, // every word must be there
		{"noon café", 0, []string{"m1"}}, // in any order
		{"cafe cafe", 0, []string{"m3", "m2", "m1"}},
		{"cafe", 2, []string{"m3", "m2"}},
		{"strasse", 0, []string{"m5"}},
		{"meet", 0, []string{"m7", "m6", "m1"}}, // part of a word
		{"moved", 0, []string{"m7"}},
		{"absent", 0, []string{}},
	} {
		if got := search(tc.q, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("Search(%q, %d) = %v, want %v", tc.q, tc.limit, got, tc.want)
		}
	}
	if ms, err := d.Search("  ", 10); ms != nil || err != nil {
		t.Fatalf("blank query: %v, %v", ms, err)
	}
	if _, err := d.Search(strings.Repeat("a", MaxQueryBytes+1), 10); !errors.Is(err, ErrQueryTooLong) {
		t.Fatalf("long query: %v", err)
	}
	// A duplicate (same author and ID) is not stored, so not indexed twice.
	put(t, d, msg("m1", DirectConv("bob"), "cafe duplicate", 99))
	if got := search("cafe", 0); !slices.Equal(got, []string{"m3", "m2", "m1"}) {
		t.Fatalf("after a duplicate: %v", got)
	}
}

// TestSearchMigration opens a schema-5 file (messages, no search bucket) and
// finds its messages: migrateV5ToV6 folded them in.
func TestSearchMigration(t *testing.T) {
	d, dir := openTemp(t)
	put(t, d, msg("m1", DirectConv("bob"), "Crème brûlée", 10), msg("m2", DirectConv("bob"), "creme", 10))
	d.Close()
	// Roll the file back to what schema 5 wrote.
	b, err := bolt.Open(dir+"/"+FileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketSearch); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("5"))
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ms, err := d.Search("CREME", 0)
	if err != nil || !slices.Equal(ids(ms), []string{"m2", "m1"}) || ms[1].Text != "Crème brûlée" {
		t.Fatalf("after migration: %+v, %v", ms, err)
	}
}

// corpus100k fills a store with n messages of 3 to 30 words over 20
// conversations, a few accented, as a long-used installation would hold.
func corpus(b *testing.B, n int) *DB {
	b.Helper()
	d, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	words := strings.Fields("the a to and of meeting lunch tomorrow build test release deploy " +
		"café résumé naïve Zoë coffee printer network call file photo later thanks ok yes no " +
		"please review merge branch server laptop kitchen weekend friday monday rain sun")
	r := rand.New(rand.NewPCG(1, 2))
	const batch = 5000
	for i := 0; i < n; i += batch {
		err := d.Update(func(tx *Tx) error {
			for j := i; j < min(i+batch, n); j++ {
				ws := make([]string, 3+r.IntN(28))
				for k := range ws {
					ws[k] = words[r.IntN(len(words))]
				}
				m := msg(fmt.Sprintf("%026d", j), DirectConv(fmt.Sprintf("peer%02d", j%20)), strings.Join(ws, " "), uint64(j+1)<<16)
				if _, err := tx.PutMessage(m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return d
}

// BenchmarkSearch100k searches 100,000 stored messages (the goal: < 100 ms)
// for a word no message has, so every message is scanned (the worst case; a
// common word stops at the limit after a few), next to two baselines on the
// same store:
//
//   - read-floor: only walk every message's stored bytes (the conversation
//     buckets' cursors, no decoding): the least any search that looks at every
//     message can cost;
//   - decode-scan: what search would cost without the folded copy: decode
//     each message's JSON, fold its text, test it.
func BenchmarkSearch100k(b *testing.B) {
	d := corpus(b, 100_000)
	b.Run("scan-folded", func(b *testing.B) {
		for b.Loop() {
			if ms, err := d.Search("zanzibar", 50); err != nil || len(ms) != 0 {
				b.Fatal(ms, err)
			}
		}
	})
	b.Run("scan-folded-2words", func(b *testing.B) {
		for b.Loop() {
			if ms, err := d.Search("Zoe zanzibar", 50); err != nil || len(ms) != 0 {
				b.Fatal(ms, err)
			}
		}
	})
	b.Run("common-word-limit50", func(b *testing.B) {
		for b.Loop() {
			if ms, err := d.Search("CAFE", 50); err != nil || len(ms) != 50 {
				b.Fatal(len(ms), err)
			}
		}
	})
	b.Run("read-floor", func(b *testing.B) {
		for b.Loop() {
			n := 0
			d.bolt.View(func(tx *bolt.Tx) error {
				convs := tx.Bucket(bucketConv)
				return convs.ForEachBucket(func(k []byte) error {
					c := convs.Bucket(k).Cursor()
					for k, v := c.First(); k != nil; k, v = c.Next() {
						n += len(v)
					}
					return nil
				})
			})
			if n == 0 {
				b.Fatal("read nothing")
			}
		}
	})
	b.Run("decode-scan", func(b *testing.B) {
		for b.Loop() {
			found := 0
			d.bolt.View(func(tx *bolt.Tx) error {
				convs := tx.Bucket(bucketConv)
				return convs.ForEachBucket(func(k []byte) error {
					c := convs.Bucket(k).Cursor()
					for k, v := c.First(); k != nil; k, v = c.Next() {
						var m Message
						if json.Unmarshal(v, &m) == nil && strings.Contains(Fold(m.Text), "zanzibar") {
							found++
						}
					}
					return nil
				})
			})
			if found != 0 {
				b.Fatal(found)
			}
		}
	})
}
