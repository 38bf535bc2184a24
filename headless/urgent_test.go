package headless

import (
	"strings"
	"sync"
	"testing"

	"parley/node"
)

// urgentNode is fakeNode with urgent items: it records what the session asked.
type urgentNode struct {
	*fakeNode
	mu    sync.Mutex
	calls []string
}

func (u *urgentNode) note(s string) {
	u.mu.Lock()
	u.calls = append(u.calls, s)
	u.mu.Unlock()
}

func (u *urgentNode) SendUrgent(to, text string) (string, error) {
	u.note("send " + to + " " + text)
	return "U1", nil
}
func (u *urgentNode) SayUrgent(room, text string) (string, error) {
	u.note("say " + room + " " + text)
	return "U2", nil
}
func (u *urgentNode) CallUrgent(peers ...string) (string, error) {
	u.note("call " + strings.Join(peers, ","))
	return "C1", nil
}
func (u *urgentNode) Alert(text string) (string, error) { u.note("alert " + text); return "A1", nil }
func (u *urgentNode) Ack(id string) error               { u.note("ack " + id); return nil }
func (u *urgentNode) CancelUrgent(id string) error      { u.note("cancel " + id); return nil }
func (u *urgentNode) UrgentPending() node.UrgentList {
	return node.UrgentList{Incoming: []node.UrgentItem{{ID: "A9", From: "p", Alert: true, Text: "fire"}}, Outgoing: []node.UrgentItem{}}
}

// urgentCaller adds voice calls to urgentNode.
type urgentCaller struct{ *urgentNode }

func (urgentCaller) Call(peers ...string) (string, error) { return "C0", nil }
func (urgentCaller) Answer(id string) error               { return nil }
func (urgentCaller) Decline(id string) error              { return nil }
func (urgentCaller) Hangup(id string) error               { return nil }
func (urgentCaller) Mute(id string, on bool) error        { return nil }
func (urgentCaller) SendDTMF(id, digits string) error     { return nil }
func (urgentCaller) Calls() []node.CallInfo               { return nil }

// TestSessionUrgentCommands: "urgent":true turns send, say and call into the
// urgent variants, which answer with "urgent":true; the urgent commands reach
// the node; a node without urgent items says so, and an ordinary send stays
// ordinary.
func TestSessionUrgentCommands(t *testing.T) {
	plain := startSession(t, newFakeNode())
	plain.expect("ready", nil)
	plain.send(`{"cmd":"send","to":"bobid","text":"x","urgent":true}` + "\n")
	if ev := plain.expect("error", nil); ev["reason"] != "this node has no urgent messages" {
		t.Fatalf("urgent send on a node without urgent items: %v", ev)
	}
	plain.send(`{"cmd":"alert","text":"x"}` + "\n")
	if ev := plain.expect("error", nil); ev["reason"] != "alert: this node has no urgent messages" {
		t.Fatalf("alert on a node without urgent items: %v", ev)
	}

	u := &urgentNode{fakeNode: newFakeNode()}
	s := startSession(t, u)
	s.expect("ready", nil)
	s.send(`{"cmd":"send","to":"bobid","text":"pump 3","urgent":true}` + "\n")
	s.expect("sent", map[string]any{"id": "U1", "to": "bobid", "urgent": true})
	s.send(`{"cmd":"send","to":"bobid","text":"ordinary"}` + "\n")
	if ev := s.expect("sent", nil); ev["urgent"] != nil {
		t.Fatalf("an ordinary send answered %v", ev)
	}
	s.send(`{"cmd":"say","room":"r-ops","text":"gate 2","urgent":true}` + "\n")
	s.expect("sent", map[string]any{"id": "U2", "room": "r-ops", "urgent": true})
	// A node without voice calls refuses an urgent call as it does any call.
	s.send(`{"cmd":"call","to":"bobid","urgent":true}` + "\n")
	s.expect("error", map[string]any{"reason": "call: this node has no voice calls"})
	c := startSession(t, &urgentCaller{u})
	c.expect("ready", nil)
	c.send(`{"cmd":"call","to":"bobid","urgent":true}` + "\n")
	c.expect("ok", map[string]any{"cmd": "call", "call": "C1", "urgent": true})
	c.send(`{"cmd":"call","to":"bobid"}` + "\n")
	if ev := c.expect("ok", map[string]any{"call": "C0"}); ev["urgent"] != nil {
		t.Fatalf("an ordinary call answered %v", ev)
	}
	s.send(`{"cmd":"alert","text":"evacuate"}` + "\n")
	s.expect("ok", map[string]any{"cmd": "alert", "id": "A1"})
	s.send(`{"cmd":"ack","id":"A9"}` + "\n")
	s.expect("ok", map[string]any{"cmd": "ack", "id": "A9"})
	s.send(`{"cmd":"ack"}` + "\n")
	s.expect("error", map[string]any{"reason": `ack: missing field "id"`})
	s.send(`{"cmd":"cancel_urgent","id":"U1"}` + "\n")
	s.expect("ok", map[string]any{"cmd": "cancel_urgent"})
	s.send(`{"cmd":"unacked"}` + "\n")
	if ev := s.expect("unacked", nil); len(ev["incoming"].([]any)) != 1 || len(ev["outgoing"].([]any)) != 0 {
		t.Fatalf("unacked: %v", ev)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	want := []string{"send bobid pump 3", "say r-ops gate 2", "call bobid", "alert evacuate", "ack A9", "cancel U1"}
	if strings.Join(u.calls, "|") != strings.Join(want, "|") {
		t.Fatalf("node calls %q, want %q", u.calls, want)
	}
}
