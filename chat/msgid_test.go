package chat

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNewIDSortsByTime(t *testing.T) {
	// Millisecond values chosen to cross byte and base32 digit boundaries.
	ms := []int64{0, 1, 31, 32, 255, 256, 1 << 20, 1<<32 - 1, 1 << 32, 1_717_243_200_123, 1_717_243_200_124, 1<<47 - 1, 1<<48 - 1}
	var ids []string
	for _, m := range ms {
		id := NewID(time.UnixMilli(m))
		if len(id) != 26 {
			t.Fatalf("NewID = %q, %d characters, want 26", id, len(id))
		}
		if strings.Trim(id, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != "" {
			t.Fatalf("NewID = %q, outside Crockford base32", id)
		}
		ids = append(ids, id)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i-1] >= ids[i] {
			t.Fatalf("ID at %d ms (%s) does not sort before ID at %d ms (%s)", ms[i-1], ids[i-1], ms[i], ids[i])
		}
	}
	// The sort holds whatever the random tail: repeat at adjacent milliseconds.
	now := time.UnixMilli(1_717_243_200_000)
	for i := range 1000 {
		a, b := NewID(now.Add(time.Duration(i)*time.Millisecond)), NewID(now.Add(time.Duration(i+1)*time.Millisecond))
		if a >= b {
			t.Fatalf("%s >= %s at step %d", a, b, i)
		}
	}
}

func TestNewIDUnique(t *testing.T) {
	now := time.UnixMilli(1_717_243_200_000)
	seen := make(map[string]bool, 10000)
	for range 10000 {
		id := NewID(now) // same millisecond: only the random part differs
		if seen[id] {
			t.Fatalf("duplicate ID %s", id)
		}
		seen[id] = true
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// 48 time bits fill the first 9 characters (45 bits) and part of the 10th.
	if ids[0][:9] != ids[len(ids)-1][:9] {
		t.Fatalf("IDs of one millisecond differ in the time prefix: %s, %s", ids[0], ids[len(ids)-1])
	}
}
