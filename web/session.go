package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"parley/headless"
	"parley/node"
)

const (
	// maxSocketMessage bounds one message from a browser: a chat message is at
	// most 64 KiB of text in the node, and an SDP offer is a few KiB.
	maxSocketMessage = 64 << 10
	// pingEvery finds a vanished browser (a phone that lost Wi-Fi) without
	// waiting for TCP; pingTimeout is how long its pong may take.
	pingEvery   = 20 * time.Second
	pingTimeout = 15 * time.Second
	// writeTimeout bounds one event's write to a browser that stopped reading.
	writeTimeout = 10 * time.Second
	// maxName is a display name's length limit (the node's own limit).
	maxName = 64
)

// allowed are the headless commands a guest's browser may run: its own chat,
// rooms, presence, calls, trust decisions and the transfers it was offered.
// Not: add_peer (no dialing from the host on a guest's behalf), send_file (it
// names host paths; browsers upload instead), auto_accept, interface, relay or
// audio settings, stats and links (the host's machine), quit.
var allowed = map[string]bool{
	"roster": true, "self": true, "rooms": true, "join": true, "leave": true, "topic": true,
	"say": true, "send": true, "history": true, "read": true, "presence": true, "name": true,
	"call": true, "answer": true, "decline": true, "hangup": true, "mute": true, "calls": true,
	"verify": true, "block": true,
	"accept_file": true, "decline_file": true, "cancel_file": true, "transfers": true,
	// Urgent items (docs/emergency.md): a guest is a team member's phone, and
	// its node's own items are capped at 6 a minute by every receiver.
	"alert": true, "ack": true, "cancel_urgent": true, "unacked": true,
}

// messageCmds and callCmds take from the tighter buckets as well.
var (
	messageCmds = map[string]bool{"say": true, "send": true, "alert": true}
	callCmds    = map[string]bool{"call": true, "media": true}
)

// joinMsg is a browser's first message.
type joinMsg struct {
	Cmd        string `json:"cmd"`
	Name       string `json:"name"`
	Seed       string `json:"seed"` // base64 (standard or URL alphabet) of 32 bytes
	Passphrase string `json:"passphrase"`
}

// cmdMsg is the part of a later message the web skin reads itself.
type cmdMsg struct {
	Cmd string          `json:"cmd"`
	Req json.RawMessage `json:"req,omitempty"`
	SDP string          `json:"sdp,omitempty"`
}

// session is one admitted browser.
type session struct {
	guest    Guest
	token    string
	conn     *websocket.Conn
	cancel   context.CancelFunc
	commands *bucket
	messages *bucket
	calls    *bucket
	upload   *bucket
	uploads  chan struct{} // a slot per upload under way (Limits.UploadsAtOnce)
	writeMu  sync.Mutex
}

func (s *Server) socket(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		s.count("web_origin_refused")
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	from := sourceAddr(r)
	if !s.joins.take(from) {
		s.count("web_joins_limited")
		http.Error(w, "too many join attempts; wait a minute", http.StatusTooManyRequests)
		return
	}
	c, err := websocket.Accept(w, r, nil) // its own origin check agrees with sameOrigin
	if err != nil {
		s.count("web_upgrade_failed")
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(maxSocketMessage)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go keepAlive(ctx, c, cancel)

	j, err := readJoin(ctx, c)
	if err != nil {
		s.count("web_join_malformed")
		writeEvent(ctx, c, map[string]any{"event": "refused", "reason": err.Error()})
		c.Close(websocket.StatusPolicyViolation, "bad join")
		return
	}
	j.From = from
	if s.sessionCount() >= s.lim.MaxSessions {
		s.count("web_sessions_full")
		writeEvent(ctx, c, map[string]any{"event": "refused", "reason": "this host has too many guests"})
		c.Close(websocket.StatusTryAgainLater, "full")
		return
	}
	writeEvent(ctx, c, map[string]any{"event": "waiting"})
	g, err := s.host.Admit(ctx, j)
	if err != nil {
		s.count("web_join_refused")
		writeEvent(ctx, c, map[string]any{"event": "refused", "reason": err.Error()})
		c.Close(websocket.StatusNormalClosure, "refused")
		return
	}
	defer g.Detach()
	sess := &session{guest: g, token: newToken(), conn: c, cancel: cancel,
		commands: newBucket(s.lim.CommandsPerSec, s.lim.CommandBurst),
		messages: newBucket(s.lim.MessagesPerSec, s.lim.MessageBurst),
		calls:    newBucket(s.lim.CallsPerSec, s.lim.CallBurst),
		upload:   newBucket(s.lim.UploadBytesPerSec, s.lim.UploadBytesPerSec),
		uploads:  make(chan struct{}, s.lim.UploadsAtOnce)}
	s.addSession(sess)
	defer s.removeSession(sess)
	self := s.host.Self()
	if err := sess.write(ctx, map[string]any{"event": "joined", "id": g.ID(), "token": sess.token,
		"host": self.ID, "host_name": self.Name, "fingerprint": self.WebFingerprint}); err != nil {
		return
	}
	s.log.Info("guest attached", "guest", g.ID(), "from", from)
	s.run(ctx, sess)
	s.log.Info("guest detached", "guest", g.ID())
}

// run is the admitted session: messages from the browser, checked, go to a
// headless session of the guest's node; its events go back, one per message.
func (s *Server) run(ctx context.Context, sess *session) {
	inR, inW := io.Pipe()
	defer inW.Close()
	out := &lineWriter{ctx: ctx, sess: sess}
	done := make(chan struct{})
	go func() {
		defer close(done)
		headless.Run(ctx, attached{sess.guest.Node(), sess.guest.Events()}, inR, out)
		sess.cancel()
	}()
	defer func() { sess.cancel(); inR.Close(); <-done }()
	for {
		typ, msg, err := sess.conn.Read(ctx)
		if err != nil {
			if errors.As(err, new(websocket.CloseError)) || ctx.Err() != nil {
				return
			}
			s.count("web_read_failed") // over the size limit, or the connection broke
			return
		}
		if typ != websocket.MessageText {
			s.count("web_binary_refused")
			continue
		}
		var c cmdMsg
		if err := json.Unmarshal(msg, &c); err != nil {
			s.count("web_command_malformed")
			sess.fail(ctx, nil, "not a JSON object")
			continue
		}
		if !sess.commands.take(1) || (messageCmds[c.Cmd] && !sess.messages.take(1)) ||
			(callCmds[c.Cmd] && !sess.calls.take(1)) {
			s.count("web_rate_limited")
			sess.fail(ctx, c.Req, truncate(c.Cmd, 32)+": too fast; wait a moment")
			continue
		}
		switch {
		case c.Cmd == "media":
			go s.media(ctx, sess, c)
		case allowed[c.Cmd]:
			if _, err := inW.Write(append(oneLine(msg), '\n')); err != nil {
				return
			}
		default:
			s.count("web_command_refused")
			sess.fail(ctx, c.Req, "command not available to guests: "+truncate(c.Cmd, 32))
		}
	}
}

// media answers the browser's WebRTC offer with the guest node's audio bridge.
func (s *Server) media(ctx context.Context, sess *session, c cmdMsg) {
	if c.SDP == "" {
		sess.fail(ctx, c.Req, `media: missing field "sdp"`)
		return
	}
	mctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	mc, ok := sess.guest.Node().(MediaConnector)
	if !ok {
		sess.fail(ctx, c.Req, "media: this host cannot carry browser audio")
		return
	}
	answer, err := mc.ConnectMedia(mctx, c.SDP)
	if err != nil {
		s.count("web_media_failed")
		sess.fail(ctx, c.Req, "media: "+err.Error())
		return
	}
	s.mu.Lock()
	s.bridges[sess.guest.ID()] = sess
	s.mu.Unlock()
	ev := map[string]any{"event": "media", "sdp": answer}
	if len(c.Req) > 0 {
		ev["req"] = c.Req
	}
	sess.write(ctx, ev)
}

func (sess *session) fail(ctx context.Context, req json.RawMessage, reason string) {
	ev := map[string]any{"event": "error", "reason": reason}
	if len(req) > 0 {
		ev["req"] = req
	}
	sess.write(ctx, ev)
}

func (sess *session) write(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return sess.writeRaw(ctx, b)
}

func (sess *session) writeRaw(ctx context.Context, b []byte) error {
	sess.writeMu.Lock()
	defer sess.writeMu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	err := sess.conn.Write(wctx, websocket.MessageText, b)
	if err != nil {
		sess.cancel() // a browser that does not read any more is gone
	}
	return err
}

// attached is a guest's node as one page sees it: its own event stream.
type attached struct {
	GuestNode
	events <-chan node.Event
}

func (a attached) Events() <-chan node.Event { return a.events }

// lineWriter sends each line headless writes as one socket message.
type lineWriter struct {
	ctx  context.Context
	sess *session
	buf  []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := withoutHostPaths(w.buf[:i])
		if err := w.sess.writeRaw(w.ctx, line); err != nil {
			return 0, err
		}
		w.buf = w.buf[i+1:]
	}
}

// withoutHostPaths drops the "path" fields of file events and transfer lists:
// where a guest's files sit on the host's disk is none of the page's business
// (it fetches a received file by transfer ID).
func withoutHostPaths(line []byte) []byte {
	if !bytes.Contains(line, []byte(`"path"`)) {
		return line
	}
	var ev map[string]any
	if json.Unmarshal(line, &ev) != nil {
		return line
	}
	delete(ev, "path")
	if ts, ok := ev["transfers"].([]any); ok {
		for _, t := range ts {
			if m, ok := t.(map[string]any); ok {
				delete(m, "path")
			}
		}
	}
	out, err := json.Marshal(ev)
	if err != nil {
		return line
	}
	return out
}

func readJoin(ctx context.Context, c *websocket.Conn) (Join, error) {
	jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	typ, msg, err := c.Read(jctx)
	if err != nil {
		return Join{}, errors.New("no join message")
	}
	if typ != websocket.MessageText {
		return Join{}, errJoinFirst
	}
	return parseJoin(msg)
}

var errJoinFirst = errors.New(`the first message must be {"cmd":"join",…}`)

// parseJoin checks a join message: a 32-byte seed, a name of 1–64 bytes of
// UTF-8 after trimming, a passphrase of at most 1 KiB (FuzzParseJoin).
func parseJoin(msg []byte) (Join, error) {
	var m joinMsg
	if json.Unmarshal(msg, &m) != nil || m.Cmd != "join" {
		return Join{}, errJoinFirst
	}
	seed, err := decodeSeed(m.Seed)
	if err != nil {
		return Join{}, err
	}
	name := strings.TrimSpace(m.Name)
	if name == "" || len(name) > maxName || !utf8.ValidString(name) {
		return Join{}, errors.New("the name must be 1 to 64 bytes of text")
	}
	if len(m.Passphrase) > 1024 {
		return Join{}, errors.New("passphrase too long")
	}
	return Join{Seed: seed, Name: name, Passphrase: m.Passphrase}, nil
}

func decodeSeed(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("seed: want 32 bytes in base64")
}

// sameOrigin: a socket may only be opened by the page this server served
// (another site's page in the guest's browser must not drive the session).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	return o != "" && o == "https://"+r.Host
}

func sourceAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func keepAlive(ctx context.Context, c *websocket.Conn, cancel context.CancelFunc) {
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, pcancel := context.WithTimeout(ctx, pingTimeout)
			err := c.Ping(pctx)
			pcancel()
			if err != nil {
				cancel()
				return
			}
		}
	}
}

func writeEvent(ctx context.Context, c *websocket.Conn, v any) {
	b, _ := json.Marshal(v)
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	c.Write(wctx, websocket.MessageText, b)
}

// oneLine makes sure a command is one line for the headless reader (JSON
// strings escape their newlines; whitespace between tokens may be one).
func oneLine(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c != '\n' && c != '\r' {
			out = append(out, c)
		}
	}
	return out
}

func newToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Server) addSession(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[sess.token] = sess
}

// removeSession forgets a closed page. If its bridge is the guest node's
// current one, the node's call audio is cut (a call hears silence) rather
// than left on a peer connection nobody answers; a newer page's bridge is
// left alone.
func (s *Server) removeSession(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess.token)
	current := s.bridges[sess.guest.ID()] == sess
	if current {
		delete(s.bridges, sess.guest.ID())
	}
	s.mu.Unlock()
	if mc, ok := sess.guest.Node().(MediaConnector); ok && current {
		mc.DisconnectMedia()
	}
}

func (s *Server) sessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// sessionOf finds the session of a request's bearer token.
func (s *Server) sessionOf(r *http.Request) *session {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[tok]
}

func (s *Server) closeSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.sessions {
		sess.cancel()
	}
}
