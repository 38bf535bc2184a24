package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Search finds messages by words, in every conversation at once, ignoring case and
// accents ("cafe" finds "Café", "STRASSE" finds "Straße").
//
// How: the "search" bucket holds every message's text already folded (Fold),
// keyed newest first across all conversations:
//
//	search   HLC (8 bytes) + conversation key + 0x00 + message ID → folded text
//
// A search walks that bucket backwards and tests each folded text for every
// word of the folded query (bytes.Contains), decoding only the messages that
// match, and stops at the limit. It is a scan, not an inverted index, on
// purpose: a scan finds any part of a word ("meet" in "meeting", "123" in
// "x1234"), costs nothing to keep current beyond one Put per message (an index
// would write one key per distinct word), needs no tokeniser that knows where
// words end in every script, and BenchmarkSearch100k measures it well inside
// the 100 ms goal for 100,000 messages — close to the floor of only walking
// those messages' stored bytes (BenchmarkReadAll100k). Folding at write time is
// what makes the scan cheap: a scan of the conversation buckets themselves
// would decode every message's JSON and fold its text on every search
// (BenchmarkSearchDecodeScan100k, several times slower).
//
// The bucket came with schema 6 (migrateV5ToV6 fills it from the history).

var bucketSearch = []byte("search")

// Search bounds: a query is typed by a person, so these are far above any real
// one and only stop a script from making one search cost much more than another.
const (
	// MaxQueryBytes bounds a query before it is folded.
	MaxQueryBytes = 256
	// maxTerms bounds the words a query is split into; each costs one
	// bytes.Contains per message scanned.
	maxTerms = 8
	// DefaultSearchLimit is the number of results when the caller asks for
	// none or for more than MaxSearchLimit.
	DefaultSearchLimit = 50
	MaxSearchLimit     = 500
)

// ErrQueryTooLong is returned for a query over MaxQueryBytes.
var ErrQueryTooLong = errors.New("search query too long")

// Fold maps text to the form search compares. Compatibility decomposition
// (NFKD) splits "é" into "e" and a combining accent and maps "ﬁ" to "fi" and
// full-width "Ａ" to "A"; the combining marks (Unicode category Mn) are then
// dropped, and what is left is case-folded ("ß" → "ss", "Σ" and "ς" → "σ").
// ASCII text, most of what is typed, takes a fast path that only lowercases.
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	// Folding can expose marks again (a case pair that decomposes differently),
	// hence the second decomposition after cases.Fold. A Chain keeps state, so
	// each call builds its own.
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), cases.Fold(), runes.Map(cherokeeUpper),
		norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, strings.ToValidUTF8(s, "\uFFFD"))
	if err != nil {
		return strings.ToLower(s)
	}
	return out
}

// cherokeeUpper finishes cases.Fold for Cherokee, which it folds the wrong
// way round (capitals to small letters, small letters to capitals), so
// folding twice would not give the same text and a query in one case would
// miss text in the other (FuzzFold found it). Unicode's case folding maps
// Cherokee to its capitals: U+AB70–U+ABBF to U+13A0–U+13EF and U+13F8–U+13FD
// to U+13F0–U+13F5.
func cherokeeUpper(r rune) rune {
	switch {
	case r >= 0xAB70 && r <= 0xABBF:
		return r - 0xAB70 + 0x13A0
	case r >= 0x13F8 && r <= 0x13FD:
		return r - 8
	}
	return r
}

// searchTerms splits a query into the distinct folded words every result must
// contain (at most maxTerms; the rest are ignored).
func searchTerms(query string) ([][]byte, error) {
	if len(query) > MaxQueryBytes {
		return nil, ErrQueryTooLong
	}
	var terms [][]byte
	for _, w := range strings.Fields(Fold(query)) {
		if len(terms) == maxTerms {
			break
		}
		dup := false
		for _, t := range terms {
			dup = dup || string(t) == w
		}
		if !dup {
			terms = append(terms, []byte(w))
		}
	}
	return terms, nil
}

func searchKey(m Message) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(m.Conv)+1+len(m.ID)), m.HLC)
	k = append(append(k, m.Conv...), 0)
	return append(k, m.ID...)
}

// putSearch records a newly stored message's folded text (PutMessage calls it
// with the message as stored, after any HLC bump).
func (t *Tx) putSearch(m Message) error {
	b := t.tx.Bucket(bucketSearch)
	if m.Text == "" || b == nil {
		// No bucket: an older migration (V1ToV2) is putting messages before
		// migrateV5ToV6 has run; that one folds them all.
		return nil
	}
	return b.Put(searchKey(m), []byte(Fold(m.Text)))
}

// Search returns up to limit messages, newest first across all conversations,
// whose text contains every word of query, ignoring case and accents (Fold).
// An empty query (or one of spaces) finds nothing. A limit outside
// 1–MaxSearchLimit means DefaultSearchLimit.
func (d *DB) Search(query string, limit int) ([]Message, error) {
	terms, err := searchTerms(query)
	if err != nil || len(terms) == 0 {
		return nil, err
	}
	if limit <= 0 || limit > MaxSearchLimit {
		limit = DefaultSearchLimit
	}
	var out []Message
	err = d.bolt.View(func(tx *bolt.Tx) error {
		t := &Tx{tx: tx}
		convs := tx.Bucket(bucketConv)
		c := tx.Bucket(bucketSearch).Cursor()
	scan:
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			for _, term := range terms {
				if !bytes.Contains(v, term) {
					continue scan
				}
			}
			if len(k) < 8 {
				continue
			}
			rest := k[8:]
			i := bytes.IndexByte(rest, 0)
			if i < 0 {
				continue
			}
			b := convs.Bucket(rest[:i])
			if b == nil {
				continue
			}
			id := rest[i+1:]
			if m, ok := t.read(b, msgKey(binary.BigEndian.Uint64(k), string(id))); ok {
				out = append(out, m)
			}
		}
		return nil
	})
	return out, err
}

// migrateV5ToV6 adds the search bucket and folds every stored message into it.
func migrateV5ToV6(tx *bolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketSearch); err != nil {
		return err
	}
	t := &Tx{tx: tx}
	return tx.Bucket(bucketConv).ForEachBucket(func(conv []byte) error {
		b := tx.Bucket(bucketConv).Bucket(conv)
		return b.ForEach(func(k, _ []byte) error {
			m, ok := t.read(b, k)
			if !ok || len(k) < 8 {
				return nil
			}
			// The history key is where the message is; the search key must name
			// that same place.
			m.HLC, m.Conv = binary.BigEndian.Uint64(k), string(conv)
			return t.putSearch(m)
		})
	})
}
