package chatload

import (
	"slices"
	"strings"
	"testing"
)

// The accounting the hall and the soak report "0 lost, 0 duplicated" from:
// each rule is exercised by one member's history or events differing from a
// clean run.
func TestTallyCountsLostAndDuplicated(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	room := []int{0, 1, 2} // d is not in the room
	msgs := []*sentMsg{
		{id: "m1", from: 0, to: 1, text: "t1"},  // 1:1 a → b
		{id: "m2", from: 1, to: -1, text: "t2"}, // room, said by b
		{from: 2, to: 3, text: "t3", pending: true},
	}
	clean := func() tally {
		return tally{names: names, room: room, msgs: msgs,
			stored: []map[string]int{
				{"m1": 1, "m2": 1},
				{"m1": 1, "m2": 1},
				{"m2": 1},
				{},
			},
			received: map[string]map[int]int{"t1": {1: 1}, "t2": {0: 1, 2: 1}},
		}
	}
	r := clean().count()
	if r.Acked != 2 || r.Direct != 1 || r.RoomMsgs != 1 || r.Unacked != 1 {
		t.Fatalf("clean: acked %d (%d 1:1, %d room), unacked %d", r.Acked, r.Direct, r.RoomMsgs, r.Unacked)
	}
	if r.Deliveries != 3 || r.Shown != 3 || r.Lost != 0 || r.Dups != 0 || r.Unshown != 0 || len(r.Notes) != 0 {
		t.Fatalf("clean: %+v", r)
	}
	for _, c := range []struct {
		name             string
		change           func(*tally)
		lost, dups, unsh int
		noteHas          string
	}{
		{"recipient lacks a 1:1 message", func(t *tally) { delete(t.stored[1], "m1") }, 1, 0, 0, `lost: "t1" (id m1) missing from b`},
		{"sender lacks its own copy", func(t *tally) { delete(t.stored[0], "m1") }, 1, 0, 0, "missing from a"},
		{"a room member lacks a message", func(t *tally) { delete(t.stored[2], "m2") }, 1, 0, 0, "missing from c"},
		{"stored twice", func(t *tally) { t.stored[2]["m2"] = 2 }, 0, 1, 0, `"t2" stored 2 times on c`},
		{"shown twice", func(t *tally) { t.received["t1"][1] = 2 }, 0, 1, 0, `"t1" shown 2 times on b`},
		{"stored, never shown", func(t *tally) { delete(t.received["t2"], 2) }, 0, 0, 1, ""},
		// Not a recipient: d's history and a stray copy elsewhere are not judged.
		{"outside the room", func(t *tally) { t.stored[3]["m2"] = 2 }, 0, 0, 0, ""},
	} {
		tl := clean() // fresh maps: one case's change does not reach the next
		c.change(&tl)
		r := tl.count()
		if r.Lost != c.lost || r.Dups != c.dups || r.Unshown != c.unsh {
			t.Errorf("%s: lost %d dups %d unshown %d, want %d %d %d", c.name, r.Lost, r.Dups, r.Unshown, c.lost, c.dups, c.unsh)
		}
		if c.noteHas != "" && !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, c.noteHas) }) {
			t.Errorf("%s: notes %q lack %q", c.name, r.Notes, c.noteHas)
		}
	}
}

func TestConversationsAreReadBothWays(t *testing.T) {
	pairs := conversations([]*sentMsg{{from: 0, to: 2}, {from: 1, to: -1}, {from: 3, to: 1, pending: true}})
	if len(pairs) != 2 || !pairs[[2]int{0, 2}] || !pairs[[2]int{2, 0}] {
		t.Fatalf("%v: want 0↔2 only (room and unacknowledged messages read no 1:1 history)", pairs)
	}
}
