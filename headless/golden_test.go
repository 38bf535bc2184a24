package headless

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/node"
)

// The golden test pins the wire bytes of every command's reply and error, so a
// reshaping of the session (the command table) is proven not to change them. The
// only thing normalised is the top-level "time" of each line. Regenerate with
// `go test ./headless/ -run TestGoldenReplies -update` and read the diff: any
// change in testdata/replies.golden is a protocol change.

var update = flag.Bool("update", false, "rewrite testdata/replies.golden")

// fullNode is the fake node with every optional part: files, auto-accept, calls
// and trust decisions.
type fullNode struct{ autoNode }

func (f *fullNode) Call(peers ...string) (string, error) {
	if peers[0] == "bad" {
		return "", errors.New("peer not reachable")
	}
	return "c1", nil
}
func (f *fullNode) Answer(id string) error  { return callErr(id) }
func (f *fullNode) Decline(id string) error { return callErr(id) }
func (f *fullNode) Hangup(id string) error  { return callErr(id) }
func (f *fullNode) Mute(id string, on bool) error {
	return callErr(id)
}
func (f *fullNode) SendDTMF(id, digits string) error { return callErr(id) }
func (f *fullNode) Calls() []node.CallInfo           { return nil }

func callErr(id string) error {
	if id == "nope" {
		return errors.New("no call nope")
	}
	return nil
}

func (f *fullNode) SetVerified(peer string, on bool) (node.PeerView, error) {
	if peer == "nobody" {
		return node.PeerView{}, errors.New("unknown peer nobody")
	}
	return node.PeerView{ID: peer, Verified: on}, nil
}

func (f *fullNode) Block(peer string, on bool) (node.PeerView, error) {
	if peer == "nobody" {
		return node.PeerView{}, errors.New("unknown peer nobody")
	}
	return node.PeerView{ID: peer, Blocked: on}, nil
}

func (f *fullNode) AdmitGuest(id string, on bool) error { return guestErr(id) }
func (f *fullNode) RemoveGuest(id string) error         { return guestErr(id) }
func (f *fullNode) Guests() []node.GuestView {
	return []node.GuestView{{ID: "g1", Name: "Gina <b>", State: "pending", From: "192.0.2.7:50000"}}
}

func guestErr(id string) error {
	if id == "nope" {
		return errors.New("no guest nope is waiting")
	}
	return nil
}

// rawSession runs Run over pipes and hands back its output lines unparsed.
type rawSession struct {
	t   *testing.T
	in  *io.PipeWriter
	out chan []byte
}

func startRawSession(t *testing.T, n Node) *rawSession {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	s := &rawSession{t: t, in: inW, out: make(chan []byte, 16)}
	go func() { Run(ctx, n, inR, outW); outW.Close() }()
	go func() {
		defer close(s.out)
		r := bufio.NewReader(outR)
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return
			}
			s.out <- line
		}
	}()
	t.Cleanup(func() { cancel(); inW.Close(); outR.Close() })
	return s
}

func (s *rawSession) next() string {
	s.t.Helper()
	select {
	case line, ok := <-s.out:
		if !ok {
			s.t.Fatal("output ended")
		}
		return normaliseTime(s.t, line)
	case <-time.After(5 * time.Second):
		s.t.Fatal("timed out waiting for a reply")
		return ""
	}
}

// normaliseTime replaces the line's top-level "time" by "T". The session writes
// every line as a marshalled map[string]any (sorted keys, numbers via float64),
// so decoding with UseNumber and marshalling again gives the same bytes but for
// the replaced time; the test checks that too.
func normaliseTime(t *testing.T, line []byte) string {
	t.Helper()
	line = bytes.TrimSuffix(line, []byte("\n"))
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		t.Fatalf("output line is not a JSON object: %q", line)
	}
	again, _ := json.Marshal(obj)
	if !bytes.Equal(again, line) {
		t.Fatalf("output line is not in canonical form:\n%s\n%s", line, again)
	}
	ts, _ := obj["time"].(string)
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		t.Fatalf("line without a valid time: %s", line)
	}
	obj["time"] = "T"
	norm, _ := json.Marshal(obj)
	return string(norm)
}

// goldenSteps drive one session per node kind; every input line gets exactly one
// reply line. Kinds: full (every optional part), bare (core Node only), sharer
// (files without auto-accept), senderr (Send fails).
var goldenSteps = []struct{ node, line string }{
	// Parse errors.
	{"full", `not json`},
	{"full", `[1,2]`},
	{"full", `{"cmd":7,"req":"r"}`},
	{"full", `{}`},
	{"full", `null`},
	{"full", `{"req":"r"}`},
	{"full", `{"cmd":"launch","req":"x"}`},
	{"full", `{"cmd":"ROSTER"}`},
	{"full", strings.Repeat("x", MaxLine+1)},
	// Core commands.
	{"full", `{"cmd":"roster","req":1}`},
	{"full", `{"cmd":"self","req":{"k":[1,"x"]}}`},
	{"full", `{"cmd":"stats"}`},
	{"full", `{"cmd":"links"}`},
	{"full", `{"cmd":"rooms","req":"r"}`},
	{"full", `{"cmd":"presence","status":"away","text":"lunch","req":"p"}`},
	{"full", `{"cmd":"presence","status":"sleepy"}`},
	{"full", `{"cmd":"presence","text":"only text","req":2}`},
	{"full", `{"cmd":"name","name":"Zoë <&>"}`},
	{"full", `{"cmd":"name","name":""}`},
	{"full", `{"cmd":"send","to":"bobid","text":"hi","req":3}`},
	{"full", `{"cmd":"send","to":"bobid"}`},
	{"full", `{"cmd":"send","text":"hi"}`},
	{"full", `{"cmd":"send","req":"both"}`},
	{"senderr", `{"cmd":"send","to":"nobody","text":"x","req":"r2"}`},
	{"full", `{"cmd":"add_peer","addr":"192.0.2.9:48556","req":5}`},
	{"full", `{"cmd":"add_peer","addr":"bad"}`},
	{"full", `{"cmd":"add_peer","req":6}`},
	// Rooms and history.
	{"full", `{"cmd":"join","room":"ops","req":1}`},
	{"full", `{"cmd":"join"}`},
	{"full", `{"cmd":"leave","room":"r-ops"}`},
	{"full", `{"cmd":"leave","room":"nope"}`},
	{"full", `{"cmd":"leave"}`},
	{"full", `{"cmd":"topic","room":"r-ops","topic":"new"}`},
	{"full", `{"cmd":"topic","room":"r-ops","topic":""}`},
	{"full", `{"cmd":"topic","room":"nope","topic":"t"}`},
	{"full", `{"cmd":"topic","room":"r-ops"}`},
	{"full", `{"cmd":"topic"}`},
	{"full", `{"cmd":"topic","topic":"t"}`},
	{"full", `{"cmd":"say","room":"r-ops","text":"hi all"}`},
	{"full", `{"cmd":"say","room":"nope","text":"hi"}`},
	{"full", `{"cmd":"say","room":"r-ops"}`},
	{"full", `{"cmd":"say"}`},
	{"full", `{"cmd":"history","room":"r-ops"}`},
	{"full", `{"cmd":"history","peer":"p","before":"cursor-1","limit":5}`},
	{"full", `{"cmd":"history","room":"r-ops","peer":"x"}`},
	{"full", `{"cmd":"history"}`},
	{"full", `{"cmd":"read","peer":"p","up_to":"M9"}`},
	{"full", `{"cmd":"read","room":"r-ops"}`},
	{"full", `{"cmd":"read"}`},
	{"full", `{"cmd":"search","text":"cafe","limit":5,"req":1}`},
	{"full", `{"cmd":"search","text":"none"}`},
	{"full", `{"cmd":"search","text":"` + strings.Repeat("x", 257) + `"}`},
	{"full", `{"cmd":"search"}`},
	// Relays.
	{"full", `{"cmd":"relays","to":"p1"}`},
	{"full", `{"cmd":"relays","purpose":"mixer","to":"p1","peers":["p2","p3"]}`},
	{"full", `{"cmd":"relays","purpose":"bulk"}`},
	{"full", `{"cmd":"relays","purpose":"voice"}`},
	// Calls.
	{"full", `{"cmd":"call","to":"p1","req":1}`},
	{"full", `{"cmd":"call","to":"p1","peers":["p2"]}`},
	{"full", `{"cmd":"call","peers":["p2","p3"]}`},
	{"full", `{"cmd":"call","to":"bad"}`},
	{"full", `{"cmd":"call"}`},
	{"full", `{"cmd":"answer","call":"c1"}`},
	{"full", `{"cmd":"answer","call":"nope"}`},
	{"full", `{"cmd":"answer"}`},
	{"full", `{"cmd":"decline","call":"c1"}`},
	{"full", `{"cmd":"decline"}`},
	{"full", `{"cmd":"hangup","call":"c1"}`},
	{"full", `{"cmd":"hangup","call":"nope"}`},
	{"full", `{"cmd":"hangup"}`},
	{"full", `{"cmd":"mute","call":"c1"}`},
	{"full", `{"cmd":"mute","call":"c1","on":false}`},
	{"full", `{"cmd":"mute","call":"nope","on":true}`},
	{"full", `{"cmd":"mute","on":true}`},
	{"full", `{"cmd":"calls"}`},
	// Trust.
	{"full", `{"cmd":"verify","peer":"p1"}`},
	{"full", `{"cmd":"verify","peer":"p1","on":false}`},
	{"full", `{"cmd":"verify","peer":"nobody"}`},
	{"full", `{"cmd":"verify"}`},
	{"full", `{"cmd":"block","peer":"p1","on":true}`},
	{"full", `{"cmd":"block","peer":"nobody"}`},
	{"full", `{"cmd":"block"}`},
	// Files.
	{"full", `{"cmd":"send_file","to":"peer1","path":"/tmp/a.txt","req":1}`},
	{"full", `{"cmd":"send_file","room":"r","paths":["/tmp/a","/tmp/b"]}`},
	{"full", `{"cmd":"send_file","room":"r","path":"/missing","req":2}`},
	{"full", `{"cmd":"send_file","path":"/x"}`},
	{"full", `{"cmd":"send_file","to":"p","room":"r","path":"/x"}`},
	{"full", `{"cmd":"send_file","to":"p"}`},
	{"full", `{"cmd":"accept_file","id":"f1","req":3}`},
	{"full", `{"cmd":"accept_file"}`},
	{"full", `{"cmd":"decline_file","id":"f2"}`},
	{"full", `{"cmd":"decline_file"}`},
	{"full", `{"cmd":"cancel_file","id":"f3"}`},
	{"full", `{"cmd":"cancel_file"}`},
	{"full", `{"cmd":"transfers"}`},
	{"full", `{"cmd":"auto_accept","req":1}`},
	{"full", `{"cmd":"auto_accept","on":true}`},
	{"full", `{"cmd":"auto_accept","on":false}`},
	// Guests.
	{"full", `{"cmd":"admit_guest","guest":"g1","on":true,"req":1}`},
	{"full", `{"cmd":"admit_guest","guest":"g1","on":false}`},
	{"full", `{"cmd":"admit_guest","guest":"nope","on":true}`},
	{"full", `{"cmd":"admit_guest","guest":"g1"}`},
	{"full", `{"cmd":"admit_guest","on":true}`},
	{"full", `{"cmd":"remove_guest","guest":"g1"}`},
	{"full", `{"cmd":"remove_guest","guest":"nope"}`},
	{"full", `{"cmd":"remove_guest"}`},
	{"full", `{"cmd":"guests"}`},
	{"bare", `{"cmd":"guests"}`},
	// A node without the optional parts.
	{"bare", `{"cmd":"call","to":"p1"}`},
	{"bare", `{"cmd":"calls","req":1}`},
	{"bare", `{"cmd":"answer","call":"c1"}`},
	{"bare", `{"cmd":"mute","call":"c1"}`},
	{"bare", `{"cmd":"verify","peer":"p1"}`},
	{"bare", `{"cmd":"block","peer":"p1"}`},
	{"bare", `{"cmd":"send_file","to":"p","path":"/x"}`},
	{"bare", `{"cmd":"accept_file","id":"f1"}`},
	{"bare", `{"cmd":"transfers"}`},
	{"bare", `{"cmd":"auto_accept","on":true}`},
	{"bare", `{"cmd":"search","text":"x"}`},
	{"sharer", `{"cmd":"auto_accept","on":true}`},
	{"sharer", `{"cmd":"auto_accept"}`},
	// Validation comes before the capability check.
	{"bare", `{"cmd":"answer"}`},
	{"bare", `{"cmd":"send_file","to":"p"}`},
	// Quit does not echo req.
	{"full", `{"cmd":"quit","req":"q"}`},
}

func TestGoldenReplies(t *testing.T) {
	senderr := newFakeNode()
	senderr.sendErr = errors.New("unknown peer")
	nodes := map[string]Node{
		"full":    &fullNode{autoNode{fileNode: fileNode{fakeNode: newFakeNode()}}},
		"bare":    newFakeNode(),
		"sharer":  &fileNode{fakeNode: newFakeNode()},
		"senderr": senderr,
	}
	var got strings.Builder
	sessions := map[string]*rawSession{}
	for _, kind := range []string{"full", "bare", "sharer", "senderr"} {
		s := startRawSession(t, nodes[kind])
		sessions[kind] = s
		got.WriteString(kind + " < " + s.next() + "\n")
	}
	for _, step := range goldenSteps {
		s := sessions[step.node]
		line := step.line
		if len(line) > 200 {
			got.WriteString(step.node + " > (" + strconv.Itoa(len(line)) + " bytes)\n")
		} else {
			got.WriteString(step.node + " > " + line + "\n")
		}
		go io.WriteString(s.in, line+"\n")
		got.WriteString(step.node + " < " + s.next() + "\n")
	}
	path := filepath.Join("testdata", "replies.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got.String() != string(want) {
		gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("replies differ from %s at line %d:\n got %s\nwant %s", path, i+1, g, w)
			}
		}
	}
}
