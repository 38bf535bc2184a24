package headless

import (
	"errors"
	"sync"
	"testing"

	"parley/node"
)

// fileNode is the fake node plus file sharing.
type fileNode struct {
	*fakeNode
	mu    sync.Mutex
	calls []string
}

func (f *fileNode) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fileNode) SendFile(to, room string, paths ...string) ([]string, error) {
	f.record("send " + to + room + " " + paths[0])
	if paths[0] == "/missing" {
		return nil, errors.New("no such file")
	}
	return []string{"f1"}, nil
}
func (f *fileNode) AcceptFile(id string) error  { f.record("accept " + id); return nil }
func (f *fileNode) DeclineFile(id string) error { f.record("decline " + id); return nil }
func (f *fileNode) CancelFile(id string) error {
	f.record("cancel " + id)
	return errors.New("no file transfer " + id)
}
func (f *fileNode) Transfers() []node.Transfer {
	return []node.Transfer{{ID: "f1", Name: "a.txt", Size: 3}}
}

func TestFileCommands(t *testing.T) {
	fn := &fileNode{fakeNode: newFakeNode()}
	s := startSession(t, fn)
	s.expect("ready", nil)
	s.send(`{"cmd":"send_file","to":"peer1","path":"/tmp/a.txt","req":1}` + "\n")
	s.expect("file_sent", map[string]any{"ids": []string{"f1"}, "to": "peer1", "req": 1})
	s.send(`{"cmd":"send_file","room":"r","path":"/missing","req":2}` + "\n")
	s.expect("error", map[string]any{"req": 2, "reason": "send_file: no such file"})
	s.send(`{"cmd":"accept_file","id":"f1","req":3}` + "\n")
	s.expect("ok", map[string]any{"cmd": "accept_file", "id": "f1", "req": 3})
	s.send(`{"cmd":"decline_file","id":"f2"}` + "\n")
	s.expect("ok", map[string]any{"cmd": "decline_file", "id": "f2"})
	s.send(`{"cmd":"cancel_file","id":"f3"}` + "\n")
	s.expect("error", map[string]any{"reason": "cancel_file: no file transfer f3"})
	s.send(`{"cmd":"transfers"}` + "\n")
	ev := s.expect("transfers", nil)
	if list, _ := ev["transfers"].([]any); len(list) != 1 {
		t.Fatalf("transfers: %v", ev)
	}
	// Missing fields are refused before reaching the node.
	for _, line := range []string{`{"cmd":"send_file","path":"/x"}`, `{"cmd":"send_file","to":"p","room":"r","path":"/x"}`,
		`{"cmd":"send_file","to":"p"}`, `{"cmd":"accept_file"}`, `{"cmd":"decline_file"}`, `{"cmd":"cancel_file"}`} {
		s.send(line + "\n")
		s.expect("error", nil)
	}
	// Events pass through with their fields.
	fn.events <- node.FileOffer{ID: "f9", Name: "p.jpg", Size: 10, Type: "image/jpeg", From: "peer1"}
	s.expect("file_offer", map[string]any{"id": "f9", "name": "p.jpg", "size": 10, "type": "image/jpeg", "from": "peer1"})
	fn.events <- node.FileDone{ID: "f9", Path: "/d/p.jpg", Hash: "ab"}
	s.expect("file_done", map[string]any{"id": "f9", "path": "/d/p.jpg", "hash": "ab"})
	fn.mu.Lock()
	defer fn.mu.Unlock()
	want := []string{"send peer1 /tmp/a.txt", "send r /missing", "accept f1", "decline f2", "cancel f3"}
	if len(fn.calls) != len(want) {
		t.Fatalf("node calls %v, want %v", fn.calls, want)
	}
	for i := range want {
		if fn.calls[i] != want[i] {
			t.Fatalf("node calls %v, want %v", fn.calls, want)
		}
	}
}

// A node without file sharing answers file commands with an error.
func TestFileCommandsWithoutSharing(t *testing.T) {
	s := startSession(t, newFakeNode())
	s.expect("ready", nil)
	s.send(`{"cmd":"accept_file","id":"f1"}` + "\n")
	s.expect("error", map[string]any{"reason": "accept_file: this node does not share files"})
}

// autoNode is a file-sharing fake that can also accept offers by itself.
type autoNode struct {
	fileNode
	auto bool
}

func (a *autoNode) AutoAcceptVerified() bool { return a.auto }
func (a *autoNode) SetAutoAcceptVerified(on bool) error {
	a.auto = on
	return nil
}

func TestAutoAcceptCommand(t *testing.T) {
	an := &autoNode{fileNode: fileNode{fakeNode: newFakeNode()}}
	s := startSession(t, an)
	s.expect("ready", nil)
	s.send(`{"cmd":"auto_accept","req":1}` + "\n")
	s.expect("ok", map[string]any{"cmd": "auto_accept", "verified": false, "req": 1})
	s.send(`{"cmd":"auto_accept","on":true,"req":2}` + "\n")
	s.expect("ok", map[string]any{"cmd": "auto_accept", "verified": true, "req": 2})
	s.send(`{"cmd":"auto_accept","on":false}` + "\n")
	s.expect("ok", map[string]any{"cmd": "auto_accept", "verified": false})

	// A sharer without it says so.
	s2 := startSession(t, &fileNode{fakeNode: newFakeNode()})
	s2.expect("ready", nil)
	s2.send(`{"cmd":"auto_accept","on":true}` + "\n")
	s2.expect("error", map[string]any{"reason": "auto_accept: this node cannot accept files by itself"})
}
