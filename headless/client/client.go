package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ReqPrefix starts every "req" id the client makes. Tests that set their own
// "req" (through Raw or Do) must not use it.
const ReqPrefix = "client/"

// DefaultTimeout bounds the wait for an answer unless Within or With say
// otherwise. Ten seconds is what the integration tests always allowed a
// command on a loaded 2-core machine (itest's node.request).
const DefaultTimeout = 10 * time.Second

// ErrTimeout is wrapped by the error of a command whose answer did not come
// in time.
var ErrTimeout = errors.New("no answer in time")

// Error is an "error" event answering a command.
type Error struct {
	Cmd    string // the command it answers
	Reason string // the event's "reason"
}

func (e *Error) Error() string { return fmt.Sprintf("%s: error event: %s", e.Cmd, e.Reason) }

// Client sends commands and waits for their answers. It is safe for concurrent
// use; Within and With return views of the same connection with another bound.
type Client struct {
	*conn
	timeout time.Duration
	ctx     context.Context
}

type conn struct {
	name string // for messages, e.g. "h1/parley"
	w    io.Writer
	wmu  sync.Mutex
	next atomic.Uint64

	mu      sync.Mutex
	pending map[string]chan []byte
	done    chan struct{} // closed by Close
	err     error         // why, set before done is closed
}

// New returns a client writing commands to w. name prefixes its errors.
func New(name string, w io.Writer) *Client {
	return &Client{
		conn:    &conn{name: name, w: w, pending: map[string]chan []byte{}, done: make(chan struct{})},
		timeout: DefaultTimeout,
	}
}

// Within returns the client with another bound on the wait for each answer.
func (c *Client) Within(d time.Duration) *Client {
	v := *c
	v.timeout = d
	return &v
}

// With returns the client bounded (also) by ctx.
func (c *Client) With(ctx context.Context) *Client {
	v := *c
	v.ctx = ctx
	return &v
}

// Deliver hands the client one output line of the process. It reports whether
// the line was the client's: an answer to one of its requests (waiting or given
// up on). Other lines are for the caller.
func (c *conn) Deliver(line []byte) bool {
	req, ok := reqOf(line)
	if !ok {
		return false
	}
	c.mu.Lock()
	ch := c.pending[req]
	delete(c.pending, req)
	c.mu.Unlock()
	if ch != nil {
		ch <- append([]byte(nil), line...) // buffered 1, sent at most once
	}
	return true
}

// IsAnswer reports whether line answers a request a client made (its "req"
// starts with ReqPrefix): Deliver will take it.
func IsAnswer(line []byte) bool {
	_, ok := reqOf(line)
	return ok
}

// reqOf returns the line's "req" when it is one the client made.
func reqOf(line []byte) (string, bool) {
	var env struct {
		Req json.RawMessage `json:"req"`
	}
	if json.Unmarshal(line, &env) != nil || len(env.Req) == 0 || env.Req[0] != '"' {
		return "", false
	}
	var req string
	if json.Unmarshal(env.Req, &req) != nil || !strings.HasPrefix(req, ReqPrefix) {
		return "", false
	}
	return req, true
}

// Close fails every waiting and later command with err (the process exited).
// Only the first call counts.
func (c *conn) Close(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return
	default:
	}
	if err == nil {
		err = errors.New("closed")
	}
	c.err = err
	close(c.done)
}

// Serve reads lines from r until it ends, delivering each; the lines that are
// not the client's go to other (which may be nil). It closes the client when r
// ends and returns the read error, if any. Lines are bounded by MaxLine.
func (c *Client) Serve(r io.Reader, other func(line []byte)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || c.Deliver(line) || other == nil {
			continue
		}
		other(line)
	}
	err := sc.Err()
	c.Close(fmt.Errorf("output ended: %v", err))
	return err
}

// Raw writes line plus a newline as it is: for tests of malformed input. Its
// answer, if any, is not awaited.
func (c *conn) Raw(line []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.w.Write(append(line[:len(line):len(line)], '\n')); err != nil {
		return fmt.Errorf("client: %s: write %.80s: %w", c.name, line, err)
	}
	return nil
}

// Do sends cmd with the fields of args (a struct or map marshalling to a JSON
// object; nil for none) and a fresh "req", waits for the answer, checks that it
// is the event reply, and decodes it into out (nil to skip). An "error" answer
// is returned as *Error.
func (c *Client) Do(cmd string, args any, reply string, out any) error {
	req := ReqPrefix + strconv.FormatUint(c.next.Add(1), 10)
	line, err := commandLine(cmd, req, args)
	if err != nil {
		return fmt.Errorf("client: %s: %s: %w", c.name, cmd, err)
	}
	ch := make(chan []byte, 1)
	c.mu.Lock()
	c.pending[req] = ch
	c.mu.Unlock()
	defer func() { // the answer can no longer be waited for
		c.mu.Lock()
		delete(c.pending, req)
		c.mu.Unlock()
	}()
	select {
	case <-c.done:
		return fmt.Errorf("client: %s: %s: %w", c.name, cmd, c.err)
	default:
	}
	if err := c.Raw(line); err != nil {
		return err
	}
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	var answer []byte
	select {
	case answer = <-ch:
	case <-c.done:
		return fmt.Errorf("client: %s: %s: no answer: %w", c.name, cmd, c.err)
	case <-timer.C:
		return fmt.Errorf("client: %s: %s: %w within %v", c.name, cmd, ErrTimeout, c.timeout)
	case <-ctx.Done():
		return fmt.Errorf("client: %s: %s: %w", c.name, cmd, ctx.Err())
	}
	return checkAnswer(cmd, reply, answer, out)
}

// commandLine marshals args and adds "cmd" and "req" to it.
func commandLine(cmd, req string, args any) ([]byte, error) {
	fields := map[string]json.RawMessage{}
	if args != nil {
		raw, err := json.Marshal(args)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &fields); err != nil {
			return nil, fmt.Errorf("arguments are not a JSON object: %w", err)
		}
	}
	fields["cmd"], _ = json.Marshal(cmd)
	fields["req"], _ = json.Marshal(req)
	return json.Marshal(fields)
}

// checkAnswer turns an answer line into out or an error.
func checkAnswer(cmd, reply string, line []byte, out any) error {
	var env struct {
		Event  string `json:"event"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(line, &env); err != nil {
		return fmt.Errorf("client: %s: answer %.200s: %w", cmd, line, err)
	}
	switch {
	case env.Event == "error" && reply != "error":
		return &Error{Cmd: cmd, Reason: env.Reason}
	case env.Event != reply:
		return fmt.Errorf("client: %s: answered by %q, want %q: %.200s", cmd, env.Event, reply, line)
	case out == nil:
		return nil
	}
	if err := json.Unmarshal(line, out); err != nil {
		return fmt.Errorf("client: %s: decode %q: %w", cmd, reply, err)
	}
	return nil
}
