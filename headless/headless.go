// Package headless drives a node with JSON lines: one command object per line on
// input, one event object per line on output. It is the contract tests and scripts
// use; docs/headless.md documents every command and event, and docs_test.go
// checks its tables against the command table and the node's events.
//
// Every command is one entry of the command table (commands.go): its required
// fields, the optional part of the node it needs, how it runs and which event
// answers it. Run reads lines, ParseCommand validates them against the table,
// and the session answers each with its reply event or an "error" event.
package headless

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"parley/node"
)

// MaxLine bounds one command line; longer lines are rejected with an error event.
const MaxLine = 256 << 10

// Node is the part of the core the headless mode drives.
type Node interface {
	Events() <-chan node.Event
	Roster() ([]node.PeerView, error)
	SetPresence(status, text string) error
	SetName(name string) error
	Send(to, text string) (string, error)
	AddPeer(ctx context.Context, addr string) (string, error)
	Self() node.Ready
	Stats() map[string]uint64
	Links() []node.Link
	Join(room string) (node.Room, error)
	Leave(room string) (node.Room, error)
	SetTopic(room, topic string) (node.Room, error)
	Rooms() []node.Room
	Say(room, text string) (node.Message, error)
	History(peer, room, before string, limit int) (node.Page, error)
	MarkRead(peer, room, upTo string) ([]string, error)
	Relays(purpose string, to []string) (node.RelayChoice, error)
}

// Command is one decoded input line. Req, when given, is echoed in the reply so a
// script can match answers to requests.
type Command struct {
	Cmd    string          `json:"cmd"`
	Req    json.RawMessage `json:"req,omitempty"`
	To     string          `json:"to,omitempty"`
	Text   string          `json:"text,omitempty"`
	Status string          `json:"status,omitempty"`
	Addr   string          `json:"addr,omitempty"`
	Name   string          `json:"name,omitempty"`
	Room   string          `json:"room,omitempty"`
	Topic  *string         `json:"topic,omitempty"`
	Peer   string          `json:"peer,omitempty"`
	Before string          `json:"before,omitempty"`
	Limit  int             `json:"limit,omitempty"`
	UpTo   string          `json:"up_to,omitempty"`
	// Purpose and Peers select a relay ranking (relays command).
	Purpose string   `json:"purpose,omitempty"`
	Peers   []string `json:"peers,omitempty"`
	// Call names a call (answer, decline, hangup, mute); On is the switch of
	// mute, verify, block and auto_accept.
	Call string `json:"call,omitempty"`
	On   *bool  `json:"on,omitempty"`
	// Digits are a call's keypad digits (dtmf).
	Digits string `json:"digits,omitempty"`
	// Path and Paths name files to send; ID names a file transfer.
	Path  string   `json:"path,omitempty"`
	Paths []string `json:"paths,omitempty"`
	ID    string   `json:"id,omitempty"`
	// Guest names a browser guest (admit_guest, remove_guest).
	Guest string `json:"guest,omitempty"`
	// User and Password make a SIP account (sip_account; never echoed).
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"`
	// SIP is a phone's URI for a direct call ({"cmd":"call","sip":…}).
	SIP string `json:"sip,omitempty"`
	// Urgent makes send, say and call urgent (headless/urgent.go).
	Urgent bool `json:"urgent,omitempty"`
}

// ParseCommand decodes one line and validates it against the command table.
func ParseCommand(line []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(line, &c); err != nil {
		return c, fmt.Errorf("not a JSON object: %v", err)
	}
	if c.Cmd == "" {
		return c, errors.New(`missing field "cmd"`)
	}
	e, ok := commands[c.Cmd]
	if !ok {
		return c, fmt.Errorf("unknown command %q", c.Cmd)
	}
	return c, e.validate(c)
}

// Session is one headless conversation over a reader and a writer.
type Session struct {
	node Node
	out  *bufio.Writer
	mu   sync.Mutex
	now  func() time.Time
}

// Run serves commands from in and writes events to out until a quit command, the
// end of input, or ctx ends. The caller stops the node afterwards.
func Run(ctx context.Context, n Node, in io.Reader, out io.Writer) error {
	s := &Session{node: n, out: bufio.NewWriter(out), now: time.Now}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// "ready" comes first, before any event the node may already have queued.
	s.write("ready", nil, n.Self())
	go s.pumpEvents(ctx)
	lines := make(chan []byte)
	readErr := make(chan error, 1)
	go func() { readErr <- readLines(ctx, in, lines, s) }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			return err
		case line := <-lines:
			if s.handle(ctx, line) {
				s.write("bye", nil, nil)
				return nil
			}
		}
	}
}

// readLines splits input into lines, rejecting (and skipping) over-long ones. It
// stops when ctx ends, so a line read after the session ended (the one after
// quit) does not wait forever for a taker (TestRunLeavesNoReaderBehind).
func readLines(ctx context.Context, in io.Reader, lines chan<- []byte, s *Session) error {
	r := bufio.NewReaderSize(in, 64<<10)
	for {
		line, err := readLine(r)
		if errors.Is(err, errLineTooLong) {
			s.fail(nil, err)
			continue
		}
		if len(line) > 0 {
			select {
			case lines <- line:
			case <-ctx.Done():
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read commands: %w", err)
		}
	}
}

var errLineTooLong = fmt.Errorf("command line longer than %d bytes", MaxLine)

func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		n := len(chunk)
		if err == nil {
			n-- // the newline ends the line but is not part of it
		}
		if len(line)+n > MaxLine {
			// Skip to the end of this line so the next one parses.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			return nil, errLineTooLong
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(line) > 0 && line[len(line)-1] == '\n' {
			line = line[:len(line)-1]
		}
		return trimSpace(line), err
	}
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\r' || b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// handle executes one command; it reports whether the session should end.
func (s *Session) handle(ctx context.Context, line []byte) (quit bool) {
	c, err := ParseCommand(line)
	if err != nil {
		s.fail(c.Req, err)
		return false
	}
	e := commands[c.Cmd]
	if e.quit {
		return true
	}
	for _, part := range e.uses {
		if !part.has(s.node) {
			s.fail(c.Req, fmt.Errorf("%s: %s", c.Cmd, part.missing))
			return false
		}
	}
	if e.async {
		go s.answer(ctx, e, c)
	} else {
		s.answer(ctx, e, c)
	}
	return false
}

// answer runs a validated command and writes its reply or its error.
func (s *Session) answer(ctx context.Context, e command, c Command) {
	body, err := e.run(ctx, s, c)
	if err != nil {
		if !e.bareErrors {
			err = fmt.Errorf("%s: %w", c.Cmd, err)
		}
		s.fail(c.Req, err)
		return
	}
	if e.reply == "ok" {
		fields := fieldsOf(body)
		fields["cmd"] = c.Cmd
		body = fields
	}
	s.write(e.reply, c.Req, body)
}

func (s *Session) fail(req json.RawMessage, err error) {
	s.write("error", req, map[string]any{"reason": err.Error()})
}

func (s *Session) pumpEvents(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-s.node.Events():
			s.write(ev.EventName(), nil, ev)
		}
	}
}

// fieldsOf turns a reply's body into the fields of its line.
func fieldsOf(body any) map[string]any {
	obj := map[string]any{}
	if body != nil {
		raw, err := json.Marshal(body)
		if err == nil {
			_ = json.Unmarshal(raw, &obj)
		}
	}
	return obj
}

// write emits one event line: the body's fields plus "event", "time" and "req".
func (s *Session) write(name string, req json.RawMessage, body any) {
	obj := fieldsOf(body)
	obj["event"] = name
	obj["time"] = s.now().UTC().Format(time.RFC3339Nano)
	if len(req) > 0 {
		obj["req"] = req
	}
	line, err := json.Marshal(obj)
	if err != nil {
		line = []byte(`{"event":"error","reason":"cannot encode event"}`)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out.Write(line)
	s.out.WriteByte('\n')
	s.out.Flush()
}
