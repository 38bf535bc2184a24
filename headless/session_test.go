package headless

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"parley/node"
)

// fakeNode implements Node and records what it was asked to do.
type fakeNode struct {
	events chan node.Event

	mu       sync.Mutex
	sends    [][2]string
	presence [][2]string
	names    []string
	joined   []string
	sendErr  error
	addPeer  chan struct{} // AddPeer blocks until closed, when set
}

func newFakeNode() *fakeNode { return &fakeNode{events: make(chan node.Event, 16)} }

func (f *fakeNode) Events() <-chan node.Event { return f.events }

func (f *fakeNode) Roster() ([]node.PeerView, error) {
	return []node.PeerView{{ID: "bobid", Name: "Bob", Presence: "away", Online: true}}, nil
}

func (f *fakeNode) SetPresence(status, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if status == "sleepy" {
		return errors.New(`unknown presence "sleepy"`)
	}
	f.presence = append(f.presence, [2]string{status, text})
	return nil
}

func (f *fakeNode) SetName(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.names = append(f.names, name)
	return nil
}

func (f *fakeNode) Send(to, text string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return "", f.sendErr
	}
	f.sends = append(f.sends, [2]string{to, text})
	return "MSG" + strings.Repeat("0", 23), nil
}

func (f *fakeNode) AddPeer(ctx context.Context, addr string) (string, error) {
	if f.addPeer != nil {
		select {
		case <-f.addPeer:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if addr == "bad" {
		return "", errors.New("no route")
	}
	return "newpeerid", nil
}

func (f *fakeNode) Self() node.Ready {
	return node.Ready{ID: "selfid", Name: "Alice", Fingerprint: "12345 67890", Addrs: []string{"192.0.2.1"}, Port: 48556}
}

func (f *fakeNode) Stats() map[string]uint64 { return map[string]uint64{"beacon_sent": 3} }

func (f *fakeNode) Links() []node.Link {
	return []node.Link{{Peer: testPeer, Remote: "192.0.2.2:48556", Outbound: true}}
}

// testPeer is the text of identity.PeerID{1, 2, 3}.
const testPeer = "aebagaaaaaaaaaaaaaaaaaaaaa"

// session runs Run over pipes and decodes what it writes.
type session struct {
	t    *testing.T
	in   *io.PipeWriter
	out  chan map[string]any
	done chan error
	stop context.CancelFunc
}

func startSession(t *testing.T, n Node) *session {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{t: t, in: inW, out: make(chan map[string]any, 64), done: make(chan error, 1), stop: cancel}
	go func() {
		s.done <- Run(ctx, n, inR, outW)
		outW.Close()
	}()
	go func() {
		defer close(s.out)
		r := bufio.NewReader(outR)
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return
			}
			var ev map[string]any
			if err := json.Unmarshal(line, &ev); err != nil {
				t.Errorf("output line is not JSON: %q", line)
				return
			}
			s.out <- ev
		}
	}()
	t.Cleanup(func() {
		cancel()
		inW.Close()
		outR.Close()
	})
	return s
}

func (s *session) send(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.in, line); err != nil {
		s.t.Fatalf("write command: %v", err)
	}
}

// sendAsync writes without blocking the test: a line longer than the pipe's
// reader takes at once is consumed while the test waits for the reply.
func (s *session) sendAsync(line string) {
	go func() {
		if _, err := io.WriteString(s.in, line); err != nil {
			s.t.Errorf("write command: %v", err)
		}
	}()
}

// next returns the next event, failing after 5 s.
func (s *session) next() map[string]any {
	s.t.Helper()
	select {
	case ev, ok := <-s.out:
		if !ok {
			s.t.Fatal("output ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		s.t.Fatal("timed out waiting for an event")
		return nil
	}
}

// expect reads the next event and checks its name and the given fields.
func (s *session) expect(name string, fields map[string]any) map[string]any {
	s.t.Helper()
	ev := s.next()
	if ev["event"] != name {
		s.t.Fatalf("event %v, want %q", ev, name)
	}
	if ts, _ := ev["time"].(string); ts == "" {
		s.t.Fatalf("event without time: %v", ev)
	} else if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		s.t.Fatalf("time %q: %v", ts, err)
	}
	for k, want := range fields {
		got, _ := json.Marshal(ev[k])
		w, _ := json.Marshal(want)
		if string(got) != string(w) {
			s.t.Fatalf("%s event field %s = %s, want %s (event %v)", name, k, got, w, ev)
		}
	}
	return ev
}

func (s *session) wait() error {
	s.t.Helper()
	select {
	case err := <-s.done:
		return err
	case <-time.After(5 * time.Second):
		s.t.Fatal("Run did not return")
		return nil
	}
}

func TestSessionCommands(t *testing.T) {
	n := newFakeNode()
	s := startSession(t, n)
	s.expect("ready", map[string]any{"id": "selfid", "name": "Alice", "port": 48556})

	s.send(`{"cmd":"self","req":1}` + "\n")
	s.expect("self", map[string]any{"id": "selfid", "fingerprint": "12345 67890", "req": 1})

	s.send(`{"cmd":"send","to":"bobid","text":"hi bob","req":{"k":"v"}}` + "\n")
	s.expect("sent", map[string]any{"id": "MSG" + strings.Repeat("0", 23), "to": "bobid", "req": map[string]any{"k": "v"}})
	n.mu.Lock()
	if len(n.sends) != 1 || n.sends[0] != [2]string{"bobid", "hi bob"} {
		t.Fatalf("node.Send calls %v", n.sends)
	}
	n.mu.Unlock()

	n.mu.Lock()
	n.sendErr = errors.New("unknown peer")
	n.mu.Unlock()
	s.send(`{"cmd":"send","to":"nobody","text":"x","req":"r2"}` + "\n")
	s.expect("error", map[string]any{"reason": "unknown peer", "req": "r2"})

	s.send(`{"cmd":"presence","status":"away","text":"lunch","req":"p"}` + "\r\n")
	s.expect("ok", map[string]any{"cmd": "presence", "req": "p"})
	s.send(`{"cmd":"presence","status":"sleepy"}` + "\n")
	ev := s.expect("error", nil)
	if r, _ := ev["reason"].(string); !strings.HasPrefix(r, "presence: ") {
		t.Fatalf("presence error reason %q", r)
	}
	if _, has := ev["req"]; has {
		t.Fatalf("error without a req echoes one: %v", ev)
	}

	s.send(`{"cmd":"name","name":"Alicia"}` + "\n")
	s.expect("ok", map[string]any{"cmd": "name"})
	s.send(`{"cmd":"roster"}` + "\n")
	ev = s.expect("roster", nil)
	if peers, _ := ev["peers"].([]any); len(peers) != 1 || peers[0].(map[string]any)["name"] != "Bob" {
		t.Fatalf("roster %v", ev["peers"])
	}
	s.send(`{"cmd":"stats"}` + "\n")
	s.expect("stats", map[string]any{"counters": map[string]any{"beacon_sent": 3}})
	s.send(`{"cmd":"links","req":"l"}` + "\n")
	ev = s.expect("links", map[string]any{"req": "l"})
	if links, _ := ev["links"].([]any); len(links) != 1 || links[0].(map[string]any)["peer"] != testPeer {
		t.Fatalf("links %v", ev["links"])
	}

	s.send(`{"cmd":"add_peer","addr":"192.0.2.9:48556","req":5}` + "\n")
	s.expect("ok", map[string]any{"cmd": "add_peer", "id": "newpeerid", "req": 5})
	s.send(`{"cmd":"add_peer","addr":"bad"}` + "\n")
	s.expect("error", map[string]any{"reason": "add_peer: no route"})

	// Node events are written as they come.
	n.events <- node.MessageReceived{ID: "m1", From: "bobid", Text: "yo"}
	s.expect("message", map[string]any{"id": "m1", "from": "bobid", "text": "yo"})

	n.mu.Lock()
	if len(n.presence) != 1 || n.presence[0] != [2]string{"away", "lunch"} || len(n.names) != 1 || n.names[0] != "Alicia" {
		t.Fatalf("node calls: presence %v, names %v", n.presence, n.names)
	}
	n.mu.Unlock()

	s.send(`{"cmd":"quit","req":"q"}` + "\n")
	s.expect("bye", nil)
	if err := s.wait(); err != nil {
		t.Fatalf("Run after quit: %v", err)
	}
}

func TestSessionBadLinesKeepGoing(t *testing.T) {
	s := startSession(t, newFakeNode())
	s.expect("ready", nil)

	for _, tc := range []struct{ line, reason string }{
		{"not json", "not a JSON object"},
		{`{"cmd":"launch","req":"x"}`, `unknown command "launch"`},
		{`{"cmd":"send","to":"a"}`, `missing field "text"`},
		{`{}`, `missing field "cmd"`},
	} {
		s.send(tc.line + "\n")
		ev := s.expect("error", nil)
		if r, _ := ev["reason"].(string); !strings.Contains(r, tc.reason) {
			t.Fatalf("%s: reason %q, want %q", tc.line, r, tc.reason)
		}
	}
	// Blank lines are ignored silently.
	s.send("\n   \n\t\r\n")
	s.send(`{"cmd":"self","req":"after"}` + "\n")
	s.expect("self", map[string]any{"req": "after"})
}

func TestSessionOverlongLine(t *testing.T) {
	s := startSession(t, newFakeNode())
	s.expect("ready", nil)

	// One byte over the limit (the newline does not count).
	long := `{"cmd":"self","pad":"` + strings.Repeat("x", MaxLine) + `"}`
	s.sendAsync(long[:MaxLine+1] + "\n")
	ev := s.expect("error", nil)
	if r, _ := ev["reason"].(string); !strings.Contains(r, "longer than") {
		t.Fatalf("reason %q", r)
	}
	s.send(`{"cmd":"self","req":"next"}` + "\n")
	s.expect("self", map[string]any{"req": "next"})

	// Much longer, spanning many reads.
	s.sendAsync(strings.Repeat("y", 3*MaxLine) + "\n")
	s.expect("error", nil)

	// A line of exactly MaxLine bytes is allowed.
	prefix := `{"cmd":"self","req":"max","pad":"`
	exact := prefix + strings.Repeat("z", MaxLine-len(prefix)-2) + `"}`
	if len(exact) != MaxLine {
		t.Fatalf("built %d bytes", len(exact))
	}
	s.sendAsync(exact + "\n")
	s.expect("self", map[string]any{"req": "max"})
}

func TestSessionEndOfInput(t *testing.T) {
	s := startSession(t, newFakeNode())
	s.expect("ready", nil)
	// The last command needs no newline.
	s.send(`{"cmd":"self","req":"last"}`)
	s.in.Close()
	s.expect("self", map[string]any{"req": "last"})
	if err := s.wait(); err != nil {
		t.Fatalf("Run at EOF: %v", err)
	}
}

func TestSessionContextCancel(t *testing.T) {
	s := startSession(t, newFakeNode())
	s.expect("ready", nil)
	s.stop()
	if err := s.wait(); err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
}

func TestSessionAddPeerDoesNotBlock(t *testing.T) {
	n := newFakeNode()
	n.addPeer = make(chan struct{})
	s := startSession(t, n)
	s.expect("ready", nil)
	s.send(`{"cmd":"add_peer","addr":"192.0.2.1:1","req":"slow"}` + "\n")
	// While the dial hangs, other commands are answered.
	s.send(`{"cmd":"self","req":"meanwhile"}` + "\n")
	s.expect("self", map[string]any{"req": "meanwhile"})
	close(n.addPeer)
	s.expect("ok", map[string]any{"cmd": "add_peer", "req": "slow"})
}

// A line read after the session ended (here the one after quit) must not keep
// the reading goroutine waiting for a taker forever: in a synctest bubble a
// goroutine left blocked fails the test.
func TestRunLeavesNoReaderBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := strings.NewReader("{\"cmd\":\"quit\"}\n{\"cmd\":\"self\"}\n")
		if err := Run(t.Context(), newFakeNode(), in, io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}
