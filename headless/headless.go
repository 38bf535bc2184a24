// Package headless drives a node with JSON lines: one command object per line on
// input, one event object per line on output. It is the contract tests and scripts
// use; README.md documents every command and event.
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

	"parley/chat"
	"parley/node"
	"parley/overlay"
	"parley/store"
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
	Links() []overlay.LinkInfo
	Join(room string) (chat.RoomInfo, error)
	Leave(room string) (chat.RoomInfo, error)
	SetTopic(room, topic string) (chat.RoomInfo, error)
	Rooms() []chat.RoomInfo
	Say(room, text string) (store.Message, error)
	History(peer, room, before string, limit int) (store.Page, error)
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
	// Call names a call (answer, decline, hangup, mute); On is mute's switch.
	Call string `json:"call,omitempty"`
	On   *bool  `json:"on,omitempty"`
	// Path and Paths name files to send; ID names a file transfer (files.go).
	Path  string   `json:"path,omitempty"`
	Paths []string `json:"paths,omitempty"`
	ID    string   `json:"id,omitempty"`
}

// ParseCommand decodes and validates one line.
func ParseCommand(line []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(line, &c); err != nil {
		return c, fmt.Errorf("not a JSON object: %v", err)
	}
	need := func(field, v string) error {
		if v == "" {
			return fmt.Errorf("%s: missing field %q", c.Cmd, field)
		}
		return nil
	}
	switch c.Cmd {
	case "":
		return c, errors.New(`missing field "cmd"`)
	case "roster", "quit", "stats", "self", "links", "rooms":
		return c, nil
	case "presence":
		return c, need("status", c.Status)
	case "name":
		return c, need("name", c.Name)
	case "send":
		return c, errors.Join(need("to", c.To), need("text", c.Text))
	case "add_peer":
		return c, need("addr", c.Addr)
	case "join", "leave":
		return c, need("room", c.Room)
	case "topic":
		if c.Topic == nil {
			return c, errors.New(`topic: missing field "topic"`)
		}
		return c, need("room", c.Room)
	case "say":
		return c, errors.Join(need("room", c.Room), need("text", c.Text))
	case "relays":
		if c.To == "" && len(c.Peers) == 0 && c.Purpose != "bulk" {
			return c, errors.New(`relays: missing field "to" (or "peers" for a mixer)`)
		}
		return c, nil
	case "call", "answer", "decline", "hangup", "mute", "calls":
		_, err := parseCall(c)
		return c, err
	case "verify", "block":
		return c, need("peer", c.Peer)
	case "send_file", "accept_file", "decline_file", "cancel_file", "transfers", "auto_accept":
		return c, parseFile(c)
	case "history", "read":
		if (c.Peer == "") == (c.Room == "") {
			return c, fmt.Errorf(`%s: give exactly one of "peer" or "room"`, c.Cmd)
		}
		return c, nil
	}
	return c, fmt.Errorf("unknown command %q", c.Cmd)
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
	go func() { readErr <- readLines(in, lines, s) }()
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

// readLines splits input into lines, rejecting (and skipping) over-long ones.
func readLines(in io.Reader, lines chan<- []byte, s *Session) error {
	r := bufio.NewReaderSize(in, 64<<10)
	for {
		line, err := readLine(r)
		if errors.Is(err, errLineTooLong) {
			s.fail(nil, err)
			continue
		}
		if len(line) > 0 {
			lines <- line
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
	switch c.Cmd {
	case "quit":
		return true
	case "roster":
		peers, err := s.node.Roster()
		if err != nil {
			s.fail(c.Req, err)
			return false
		}
		s.write("roster", c.Req, map[string]any{"peers": peers})
	case "self":
		s.write("self", c.Req, s.node.Self())
	case "stats":
		s.write("stats", c.Req, map[string]any{"counters": s.node.Stats()})
	case "links":
		s.write("links", c.Req, map[string]any{"links": s.node.Links()})
	case "presence":
		s.reply(c, s.node.SetPresence(c.Status, c.Text), nil)
	case "name":
		s.reply(c, s.node.SetName(c.Name), nil)
	case "send":
		id, err := s.node.Send(c.To, c.Text)
		if err != nil {
			s.fail(c.Req, err)
			return false
		}
		s.write("sent", c.Req, map[string]any{"id": id, "to": c.To})
	case "rooms":
		s.write("rooms", c.Req, map[string]any{"rooms": s.node.Rooms()})
	case "relays":
		purpose := c.Purpose
		if purpose == "" {
			purpose = "voice"
		}
		to := c.Peers
		if c.To != "" {
			to = append([]string{c.To}, to...)
		}
		choice, err := s.node.Relays(purpose, to)
		if err != nil {
			s.fail(c.Req, err)
			return false
		}
		s.write("relays", c.Req, choice)
	case "join", "leave", "topic":
		var info chat.RoomInfo
		var err error
		switch c.Cmd {
		case "join":
			info, err = s.node.Join(c.Room)
		case "leave":
			info, err = s.node.Leave(c.Room)
		default:
			info, err = s.node.SetTopic(c.Room, *c.Topic)
		}
		s.reply(c, err, map[string]any{"room": info})
	case "say":
		m, err := s.node.Say(c.Room, c.Text)
		if err != nil {
			s.fail(c.Req, fmt.Errorf("say: %w", err))
			return false
		}
		s.write("sent", c.Req, map[string]any{"id": m.ID, "room": c.Room})
	case "history":
		page, err := s.node.History(c.Peer, c.Room, c.Before, c.Limit)
		if err != nil {
			s.fail(c.Req, fmt.Errorf("history: %w", err))
			return false
		}
		s.write("history", c.Req, map[string]any{"peer": c.Peer, "room": c.Room, "messages": page.Messages, "next": page.Next})
	case "read":
		ids, err := s.node.MarkRead(c.Peer, c.Room, c.UpTo)
		s.reply(c, err, map[string]any{"ids": ids})
	case "call", "answer", "decline", "hangup", "mute", "calls":
		s.handleCall(c)
	case "verify", "block":
		s.handleTrust(c)
	case "send_file", "accept_file", "decline_file", "cancel_file", "transfers", "auto_accept":
		s.handleFile(c)
	case "add_peer":
		// Dialing can take seconds; other commands keep flowing meanwhile.
		go func() {
			id, err := s.node.AddPeer(ctx, c.Addr)
			s.reply(c, err, map[string]any{"id": id})
		}()
	}
	return false
}

func (s *Session) reply(c Command, err error, fields map[string]any) {
	if err != nil {
		s.fail(c.Req, fmt.Errorf("%s: %w", c.Cmd, err))
		return
	}
	if fields == nil {
		fields = map[string]any{}
	}
	fields["cmd"] = c.Cmd
	s.write("ok", c.Req, fields)
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

// write emits one event line: the body's fields plus "event", "time" and "req".
func (s *Session) write(name string, req json.RawMessage, body any) {
	obj := map[string]any{}
	if body != nil {
		raw, err := json.Marshal(body)
		if err == nil {
			_ = json.Unmarshal(raw, &obj)
		}
	}
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
