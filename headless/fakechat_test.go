package headless

import (
	"errors"
	"strings"
	"testing"

	"parley/node"
)

// The chat half of fakeNode: rooms and history kept in memory, enough to check how
// the session turns commands into calls and answers.

var errNoRoom = errors.New("unknown room")

func (f *fakeNode) Join(room string) (node.Room, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joined = append(f.joined, room)
	return node.Room{ID: "r-" + room, Name: room, Joined: true, Members: []string{"me"}}, nil
}

func (f *fakeNode) Leave(room string) (node.Room, error) {
	if room != "r-ops" {
		return node.Room{}, errNoRoom
	}
	return node.Room{ID: room, Name: "ops"}, nil
}

func (f *fakeNode) SetTopic(room, topic string) (node.Room, error) {
	if room != "r-ops" {
		return node.Room{}, errNoRoom
	}
	return node.Room{ID: room, Name: "ops", Topic: topic, Joined: true}, nil
}

func (f *fakeNode) Rooms() []node.Room {
	return []node.Room{{ID: "r-ops", Name: "ops", Joined: true, Members: []string{"me"}}}
}

func (f *fakeNode) Say(room, text string) (node.Message, error) {
	if room != "r-ops" {
		return node.Message{}, errNoRoom
	}
	return node.Message{ID: "M1", Room: room, Text: text}, nil
}

func (f *fakeNode) History(peer, room, before string, limit int) (node.Page, error) {
	if before == "" {
		return node.Page{Messages: []node.Message{{ID: "M2", Text: "newer"}}, Next: "cursor-1"}, nil
	}
	return node.Page{Messages: []node.Message{{ID: "M1", Text: "older"}}}, nil
}

func (f *fakeNode) MarkRead(peer, room, upTo string) ([]string, error) {
	return []string{upTo}, nil
}

func TestSessionChatCommands(t *testing.T) {
	n := newFakeNode()
	s := startSession(t, n)
	s.expect("ready", nil)
	s.send(`{"cmd":"join","room":"ops","req":1}` + "\n")
	s.expect("ok", map[string]any{"cmd": "join", "req": 1, "room": map[string]any{"id": "r-ops", "name": "ops", "topic": "", "joined": true, "members": []any{"me"}}})
	s.send(`{"cmd":"say","room":"r-ops","text":"hi all"}` + "\n")
	s.expect("sent", map[string]any{"id": "M1", "room": "r-ops"})
	s.send(`{"cmd":"say","room":"nope","text":"hi"}` + "\n")
	if ev := s.expect("error", nil); !strings.Contains(ev["reason"].(string), "unknown room") {
		t.Fatalf("say to an unknown room: %v", ev)
	}
	s.send(`{"cmd":"topic","room":"r-ops","topic":""}` + "\n")
	s.expect("ok", map[string]any{"cmd": "topic"})
	s.send(`{"cmd":"topic","room":"r-ops"}` + "\n")
	s.expect("error", nil)
	s.send(`{"cmd":"rooms"}` + "\n")
	s.expect("rooms", nil)
	s.send(`{"cmd":"history","room":"r-ops"}` + "\n")
	s.expect("history", map[string]any{"next": "cursor-1"})
	s.send(`{"cmd":"history","room":"r-ops","before":"cursor-1"}` + "\n")
	if ev := s.expect("history", nil); ev["next"] != "" || len(ev["messages"].([]any)) != 1 {
		t.Fatalf("second page: %v", ev)
	}
	s.send(`{"cmd":"history","room":"r-ops","peer":"x"}` + "\n")
	s.expect("error", nil)
	s.send(`{"cmd":"read","peer":"p","up_to":"M9"}` + "\n")
	s.expect("ok", map[string]any{"cmd": "read", "ids": []any{"M9"}})
	s.send(`{"cmd":"leave","room":"r-ops"}` + "\n")
	s.expect("ok", map[string]any{"cmd": "leave"})
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.joined) != 1 || n.joined[0] != "ops" {
		t.Fatalf("join calls: %v", n.joined)
	}
}

func (f *fakeNode) Relays(purpose string, to []string) (node.RelayChoice, error) {
	return node.RelayChoice{Purpose: purpose, To: to, Chosen: "r1", Ranking: []node.RankedRelay{{ID: "r1", Cost: 3}}}, nil
}
