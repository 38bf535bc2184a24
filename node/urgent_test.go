package node

import (
	"encoding/json"
	"testing"
	"time"
)

// TestUrgentViewJSON pins the JSON of the urgent events and list entries, the
// fields docs/headless.md documents. None of them has a top-level "time": the
// headless session writes its own "time" on every line.
func TestUrgentViewJSON(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		v    any
		want string
	}{
		{UrgentMessage{ID: "u1", From: "p", Name: "Ann", Room: "r1", Text: "fire", Sent: at},
			`{"id":"u1","from":"p","name":"Ann","room":"r1","text":"fire","sent":"2026-12-07T12:00:00Z"}`},
		{AlertRaised{ID: "a1", From: "p", Text: "evacuate", Sent: at},
			`{"id":"a1","from":"p","text":"evacuate","sent":"2026-12-07T12:00:00Z"}`},
		{Acknowledged{ID: "u1", By: "q", Name: "Bo", At: at},
			`{"id":"u1","by":"q","name":"Bo","at":"2026-12-07T12:00:00Z"}`},
		{UrgentCancelled{ID: "u1", By: "p"}, `{"id":"u1","by":"p"}`},
		{UrgentItem{ID: "u1", To: []string{"q"}, Text: "x", Sent: at, Acked: map[string]time.Time{"q": at}},
			`{"id":"u1","text":"x","sent":"2026-12-07T12:00:00Z","to":["q"],"acked":{"q":"2026-12-07T12:00:00Z"}}`},
		{CallIncoming{Call: "c", From: "p", Urgent: true}, `{"call":"c","from":"p","urgent":true}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("%T:\n got %s\nwant %s", c.v, b, c.want)
		}
	}
}
