package store

import (
	"slices"
	"testing"
	"time"
)

func TestRooms(t *testing.T) {
	d, dir := openTemp(t)
	if rs, err := d.Rooms(); len(rs) != 0 || err != nil {
		t.Fatalf("fresh Rooms = %v, %v", rs, err)
	}
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []Room{
		{ID: "bbbb", Name: "lobby", Topic: "hi", TopicHLC: 7, Joined: true, Created: t0},
		{ID: "aaaa", Name: "dev", Created: t0},
	} {
		if err := d.PutRoom(r); err != nil {
			t.Fatal(err)
		}
	}
	// Put replaces by ID.
	if err := d.PutRoom(Room{ID: "aaaa", Name: "dev", Topic: "builds", TopicHLC: 9, Joined: true, Created: t0}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rs, err := d.Rooms()
	if err != nil {
		t.Fatal(err)
	}
	want := []Room{
		{ID: "aaaa", Name: "dev", Topic: "builds", TopicHLC: 9, Joined: true, Created: t0},
		{ID: "bbbb", Name: "lobby", Topic: "hi", TopicHLC: 7, Joined: true, Created: t0},
	}
	if !slices.EqualFunc(rs, want, func(a, b Room) bool {
		return a.Created.Equal(b.Created) && (a == Room{ID: b.ID, Name: b.Name, Topic: b.Topic, TopicHLC: b.TopicHLC, Joined: b.Joined, Created: a.Created})
	}) {
		t.Fatalf("Rooms after reopen:\n got %+v\nwant %+v", rs, want)
	}
}
