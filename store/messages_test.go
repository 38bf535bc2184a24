package store

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestSaveMessageIdempotent(t *testing.T) {
	d, _ := openTemp(t)
	m := Message{ID: "01HX", From: "bob", To: "alice", Text: "hello", Time: time.UnixMilli(1000).UTC(), State: StateReceived}
	isNew, err := d.SaveMessage(m)
	if err != nil || !isNew {
		t.Fatalf("first save: isNew %v, err %v", isNew, err)
	}
	// A retransmission (even with different content) does not overwrite.
	dup := m
	dup.Text = "changed"
	isNew, err = d.SaveMessage(dup)
	if err != nil || isNew {
		t.Fatalf("second save: isNew %v, err %v", isNew, err)
	}
	got, ok, err := d.GetMessage("01HX")
	if !ok || err != nil || got.Text != "hello" || !got.Time.Equal(m.Time) {
		t.Fatalf("stored %+v, %v, %v", got, ok, err)
	}
	if _, ok, err := d.GetMessage("nope"); ok || err != nil {
		t.Fatalf("unknown message: ok %v, err %v", ok, err)
	}
}

func TestSaveMessageConcurrentDuplicates(t *testing.T) {
	// bbolt batches concurrent callers; exactly one of them may see isNew.
	d, _ := openTemp(t)
	var wg sync.WaitGroup
	news := make(chan bool, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			isNew, err := d.SaveMessage(Message{ID: "same", Text: "x"})
			if err != nil {
				t.Error(err)
			}
			news <- isNew
		}()
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
		t.Fatalf("%d callers were told the message was new, want 1", n)
	}
}

func TestSetMessageState(t *testing.T) {
	d, _ := openTemp(t)
	if _, err := d.SaveMessage(Message{ID: "m1", To: "bob", Text: "hi", State: StateSent}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id, state string
		changed   bool
	}{
		{"m1", StateSent, false},
		{"m1", StateDelivered, true},
		{"m1", StateDelivered, false},
		{"unknown", StateDelivered, false},
	} {
		changed, err := d.SetMessageState(tc.id, tc.state)
		if err != nil || changed != tc.changed {
			t.Fatalf("SetMessageState(%s, %s) = %v, %v; want %v", tc.id, tc.state, changed, err, tc.changed)
		}
	}
	m, _, _ := d.GetMessage("m1")
	if m.State != StateDelivered || m.Text != "hi" || m.To != "bob" {
		t.Fatalf("after state change: %+v", m)
	}
	if _, ok, _ := d.GetMessage("unknown"); ok {
		t.Fatal("SetMessageState created a message")
	}
}

func TestMessagesNewestLimitOldestFirst(t *testing.T) {
	d, _ := openTemp(t)
	// IDs sort by time; alternate peers so filtering matters.
	for i := range 10 {
		peer := "bob"
		if i%2 == 1 {
			peer = "carol"
		}
		m := Message{ID: fmt.Sprintf("%02d", i), From: "alice", To: peer, Text: fmt.Sprint(i)}
		if i == 4 {
			m.From, m.To = "bob", "alice" // incoming counts too
		}
		if _, err := d.SaveMessage(m); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(ms []Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	for _, tc := range []struct {
		peer  string
		limit int
		want  string
	}{
		{"bob", 3, "[04 06 08]"},
		{"bob", 100, "[00 02 04 06 08]"},
		{"carol", 2, "[07 09]"},
		{"bob", 0, "[]"},
		{"dave", 5, "[]"},
	} {
		ms, err := d.Messages(tc.peer, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(ids(ms)); got != tc.want {
			t.Errorf("Messages(%s, %d) = %s, want %s", tc.peer, tc.limit, got, tc.want)
		}
	}
}
