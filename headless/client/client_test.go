package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"parley/node"
)

// fake answers each command line with answer(cmd) plus the command's req, like
// the headless session does; answer returning "" answers nothing.
func fake(t *testing.T, answer func(cmd map[string]any) string) (*Client, chan []byte) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := New("fake", inW)
	others := make(chan []byte, 16)
	go func() {
		sc := bufio.NewScanner(inR)
		for sc.Scan() {
			var cmd map[string]any
			if err := json.Unmarshal(sc.Bytes(), &cmd); err != nil {
				continue
			}
			a := answer(cmd)
			if a == "" {
				continue
			}
			var obj map[string]any
			if err := json.Unmarshal([]byte(a), &obj); err != nil {
				t.Errorf("bad fake answer %s", a)
				continue
			}
			if cmd["req"] != nil {
				obj["req"] = cmd["req"]
			}
			line, _ := json.Marshal(obj)
			outW.Write(append(line, '\n'))
		}
	}()
	go c.Serve(outR, func(line []byte) { others <- append([]byte(nil), line...) })
	t.Cleanup(func() { inW.Close(); outW.Close() })
	return c, others
}

func TestTypedCommands(t *testing.T) {
	var got []map[string]any
	c, others := fake(t, func(cmd map[string]any) string {
		got = append(got, cmd)
		switch cmd["cmd"] {
		case "send":
			// An event of the node's own, before the answer: it is not the client's.
			return `{"event":"sent","id":"M1","to":"bob"}`
		case "join":
			return `{"event":"ok","cmd":"join","room":{"id":"r1","name":"ops","members":["a"],"joined":true}}`
		case "call":
			return `{"event":"error","reason":"call: peer not reachable"}`
		case "roster":
			return `{"event":"roster","peers":[{"id":"bob","online":true,"verified":true}]}`
		}
		return ""
	})
	id, err := c.Send("bob", "hi")
	if err != nil || id != "M1" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	room, err := c.Join("ops")
	if err != nil || room.ID != "r1" || !room.Joined {
		t.Fatalf("Join = %+v, %v", room, err)
	}
	peers, err := c.Roster()
	if err != nil || len(peers) != 1 || peers[0].ID != "bob" || !peers[0].Verified {
		t.Fatalf("Roster = %+v, %v", peers, err)
	}
	_, err = c.Call("bob")
	var ee *Error
	if !errors.As(err, &ee) || ee.Reason != "call: peer not reachable" || ee.Cmd != "call" {
		t.Fatalf("Call error = %v", err)
	}
	if got[0]["to"] != "bob" || got[0]["text"] != "hi" || !strings.HasPrefix(got[0]["req"].(string), ReqPrefix) {
		t.Errorf("send line: %v", got[0])
	}
	if _, has := got[3]["peers"]; has || got[3]["to"] != "bob" {
		t.Errorf("a call to one peer names it in \"to\": %v", got[3])
	}
	select {
	case line := <-others:
		t.Errorf("an answer was passed on as an event: %s", line)
	default:
	}
}

func TestTimeoutAndLateAnswer(t *testing.T) {
	hold := make(chan struct{})
	c, others := fake(t, func(cmd map[string]any) string {
		if cmd["cmd"] == "stats" {
			<-hold // answer only after the client gave up
			return `{"event":"stats","counters":{}}`
		}
		return `{"event":"presence","peer":{"id":"x"}}`
	})
	_, err := c.Within(50 * time.Millisecond).Stats()
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Stats error = %v, want a timeout", err)
	}
	close(hold)
	// The late answer is the client's; the node's own event is not.
	if err := c.Raw([]byte(`{"cmd":"other"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case line := <-others:
		if !bytes.Contains(line, []byte(`"presence"`)) {
			t.Errorf("passed on %s", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the node's event was not passed on")
	}
}

func TestClose(t *testing.T) {
	c, _ := fake(t, func(map[string]any) string { return "" })
	go func() { time.Sleep(20 * time.Millisecond); c.Close(errors.New("process exited")) }()
	start := time.Now()
	if _, err := c.Rooms(); err == nil || !strings.Contains(err.Error(), "process exited") {
		t.Fatalf("Rooms after Close: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("Close did not wake the waiter")
	}
	if err := c.Answer("c1"); err == nil {
		t.Error("a command after Close succeeded")
	}
}

func TestDecode(t *testing.T) {
	ev, err := Decode([]byte(`{"event":"message","id":"M1","from":"bob","text":"hi","sent":"2026-12-07T12:00:00Z","time":"x"}`))
	if m, ok := ev.(node.MessageReceived); err != nil || !ok || m.From != "bob" || m.Text != "hi" {
		t.Fatalf("Decode message = %#v, %v", ev, err)
	}
	ev, err = Decode([]byte(`{"event":"ok","cmd":"join","req":"r"}`))
	if r, ok := ev.(Reply); err != nil || !ok || r.Name != "ok" || string(r.Req) != `"r"` {
		t.Fatalf("Decode ok = %#v, %v", ev, err)
	}
	for _, bad := range []string{`not json`, `[1]`, `{}`, `null`, `{"event":7}`, `{"event":"message","text":3}`} {
		if ev, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%s) = %#v, want an error", bad, ev)
		}
	}
}

// TestRepliesDecodeGolden pins the client's own reply types (replies.go) to the
// protocol's bytes: every list item of the golden history, rooms, links and
// transfers replies decodes with no unknown field and encodes back the same.
func TestRepliesDecodeGolden(t *testing.T) {
	raw, err := os.ReadFile("../testdata/replies.golden")
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string]struct {
		field string
		typ   any
	}{
		"history":   {"messages", []Message{}},
		"rooms":     {"rooms", []Room{}},
		"links":     {"links", []Link{}},
		"transfers": {"transfers", []Transfer{}},
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		_, obj, ok := strings.Cut(line, " < ")
		if !ok {
			continue
		}
		ev, err := Decode([]byte(obj))
		if err != nil {
			t.Errorf("golden line does not decode: %v\n%s", err, obj)
			continue
		}
		l, ok := lists[ev.EventName()]
		if !ok {
			continue
		}
		var fields map[string]json.RawMessage
		json.Unmarshal([]byte(obj), &fields)
		items := reflect.New(reflect.TypeOf(l.typ))
		dec := json.NewDecoder(bytes.NewReader(fields[l.field]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(items.Interface()); err != nil {
			t.Errorf("%s: %v", ev.EventName(), err)
			continue
		}
		again, _ := json.Marshal(items.Elem().Interface())
		var want, got any
		json.Unmarshal(fields[l.field], &want)
		json.Unmarshal(again, &got)
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s: the client's type does not encode back the same:\n%s\n%s", ev.EventName(), fields[l.field], again)
		}
		seen[ev.EventName()] = true
	}
	for name := range lists {
		if !seen[name] {
			t.Errorf("no golden %q reply to check", name)
		}
	}
}

func TestWithContext(t *testing.T) {
	c, _ := fake(t, func(map[string]any) string { return "" }) // never answers
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.With(ctx).Rooms(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Rooms with a cancelled context: %v", err)
	}
	// The view does not change the client it came from.
	if c.ctx != nil || c.timeout != DefaultTimeout {
		t.Error("With changed the original client")
	}
}
