package web

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"parley/node"
)

// fakeHost admits per admit (nil: everyone) and hands out fakeGuests.
type fakeHost struct {
	team   bool
	admit  func(Join) error
	mu     sync.Mutex
	guests []*fakeGuest
	joins  []Join
}

func (h *fakeHost) Self() node.Ready {
	return node.Ready{ID: "hostid", Name: "Host", WebFingerprint: "AA:BB"}
}
func (h *fakeHost) WebCertificate() (tls.Certificate, error) { return tls.Certificate{}, nil }
func (h *fakeHost) Team() bool                               { return h.team }
func (h *fakeHost) Admit(ctx context.Context, j Join) (Guest, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.joins = append(h.joins, j)
	if h.admit != nil {
		if err := h.admit(j); err != nil {
			return nil, err
		}
	}
	g := &fakeGuest{n: &fakeNode{events: make(chan node.Event, 16)}}
	h.guests = append(h.guests, g)
	return g, nil
}

type fakeGuest struct {
	n        *fakeNode
	detached chan struct{}
	once     sync.Once
}

func (g *fakeGuest) ID() string                { return "guestid" }
func (g *fakeGuest) Node() GuestNode           { return g.n }
func (g *fakeGuest) Detach()                   { g.once.Do(func() {}) }
func (g *fakeGuest) Events() <-chan node.Event { return g.n.events }

// fakeNode implements the few methods the tests reach; the rest of GuestNode
// panics (a test reaching it is a test that lets a command through it should not).
type fakeNode struct {
	GuestNode   // nil: the methods below are all a test may reach
	events      chan node.Event
	mu          sync.Mutex
	sent        []string
	files       []string
	transfers   []node.Transfer
	disconnects int
}

func (n *fakeNode) Events() <-chan node.Event { return n.events }
func (n *fakeNode) Self() node.Ready          { return node.Ready{ID: "guestid", Name: "Guest"} }
func (n *fakeNode) Send(to, text string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, text)
	return "m1", nil
}
func (n *fakeNode) Say(room, text string) (node.Message, error) {
	return node.Message{ID: "r1"}, nil
}
func (n *fakeNode) SendFile(to, room string, paths ...string) ([]string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.files = append(n.files, paths...)
	return []string{"f1"}, nil
}
func (n *fakeNode) Transfers() []node.Transfer {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.transfers
}
func (n *fakeNode) ConnectMedia(ctx context.Context, offer string) (string, error) {
	return "answer to " + offer, nil
}
func (n *fakeNode) DisconnectMedia() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.disconnects++
}

type harness struct {
	t    *testing.T
	srv  *httptest.Server
	web  *Server
	host *fakeHost
}

func newHarness(t *testing.T, lim Limits) *harness {
	h := &harness{t: t, host: &fakeHost{}}
	h.web = New(h.host, Options{UploadDir: t.TempDir(), Limits: lim})
	h.srv = httptest.NewTLSServer(h.web.Handler())
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) dial(origin string) (*websocket.Conn, *http.Response, error) {
	hdr := http.Header{}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Dial(ctx, "wss"+strings.TrimPrefix(h.srv.URL, "https")+"/ws",
		&websocket.DialOptions{HTTPClient: h.srv.Client(), HTTPHeader: hdr})
}

func (h *harness) origin() string { return h.srv.URL }

func seedB64() string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)) }

// join dials and joins; it returns the socket and the session token.
func (h *harness) join() (*websocket.Conn, string) {
	h.t.Helper()
	c, _, err := h.dial(h.origin())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.CloseNow() })
	h.sendRaw(c, map[string]any{"cmd": "join", "name": "  Gus ", "seed": seedB64()})
	if ev := h.next(c); ev["event"] != "waiting" {
		h.t.Fatalf("first answer %v, want waiting", ev)
	}
	ev := h.next(c)
	if ev["event"] != "joined" || ev["id"] != "guestid" || ev["fingerprint"] != "AA:BB" {
		h.t.Fatalf("answer %v, want joined", ev)
	}
	if ev := h.next(c); ev["event"] != "ready" {
		h.t.Fatalf("the headless session did not start with ready: %v", ev)
	}
	return c, ev["token"].(string)
}

func (h *harness) sendRaw(c *websocket.Conn, v any) {
	h.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.Write(context.Background(), websocket.MessageText, b); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) next(c *websocket.Conn) map[string]any {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		h.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		h.t.Fatalf("%q: %v", b, err)
	}
	return m
}

func TestHeadersAndStatic(t *testing.T) {
	h := newHarness(t, Limits{})
	for _, path := range []string{"/", "/app.js", "/style.css", "/api/info"} {
		r, err := h.srv.Client().Get(h.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || len(body) == 0 {
			t.Fatalf("%s: %d, %d bytes", path, r.StatusCode, len(body))
		}
		if r.Header.Get("Content-Security-Policy") != CSP || r.Header.Get("X-Content-Type-Options") != "nosniff" ||
			r.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", path, r.Header)
		}
		if path == "/app.js" && !strings.Contains(r.Header.Get("Content-Type"), "javascript") {
			t.Errorf("app.js served as %q: a module needs a JavaScript type", r.Header.Get("Content-Type"))
		}
		if path == "/api/info" && !strings.Contains(string(body), `"fingerprint":"AA:BB"`) {
			t.Errorf("info %s", body)
		}
	}
}

// TestStaticAppHasNoMarkupSinks: names and messages reach the page as text; a
// markup sink in the app would let a hostile name run (the CSP is the second wall).
func TestStaticAppHasNoMarkupSinks(t *testing.T) {
	src, err := staticFiles.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if bytes.Contains(src, []byte(sink)) {
			t.Errorf("app.js uses %s", sink)
		}
	}
}

func TestSocketOrigin(t *testing.T) {
	h := newHarness(t, Limits{})
	for _, origin := range []string{"", "https://evil.example", "http://" + strings.TrimPrefix(h.srv.URL, "https://")} {
		c, r, err := h.dial(origin)
		if err == nil {
			c.CloseNow()
			t.Errorf("origin %q: the socket opened", origin)
			continue
		}
		if r == nil || r.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: %v, want 403", origin, err)
		}
	}
	if h.web.Stats()["web_origin_refused"] != 3 {
		t.Errorf("counters %v", h.web.Stats())
	}
}

func TestJoinAndAllowList(t *testing.T) {
	h := newHarness(t, Limits{})
	c, _ := h.join()
	if j := h.host.joins[0]; j.Name != "Gus" || len(j.Seed) != 32 || j.From != "127.0.0.1" {
		t.Fatalf("join %+v", j)
	}
	h.sendRaw(c, map[string]any{"cmd": "send", "to": "bob", "text": "hi", "req": 1})
	if ev := h.next(c); ev["event"] != "sent" || ev["id"] != "m1" {
		t.Fatalf("send: %v", ev)
	}
	for _, cmd := range []string{"add_peer", "send_file", "quit", "stats", "links", "auto_accept", "admit_guest", "relays"} {
		h.sendRaw(c, map[string]any{"cmd": cmd, "addr": "10.0.0.1:1", "to": "x", "path": "/etc/passwd", "req": cmd})
		ev := h.next(c)
		if ev["event"] != "error" || ev["req"] != cmd || !strings.Contains(ev["reason"].(string), "not available") {
			t.Fatalf("%s: %v", cmd, ev)
		}
	}
	h.sendRaw(c, map[string]any{"cmd": "media", "sdp": "offer", "req": 2})
	if ev := h.next(c); ev["event"] != "media" || ev["sdp"] != "answer to offer" {
		t.Fatalf("media: %v", ev)
	}
	defer func() {
		// The page that connected the bridge closes: the node's audio is cut.
		c.Close(websocket.StatusNormalClosure, "")
		n := h.host.guests[0].n
		deadline := time.Now().Add(5 * time.Second)
		for {
			n.mu.Lock()
			d := n.disconnects
			n.mu.Unlock()
			if d == 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("DisconnectMedia called %d times after the page closed", d)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	// A command line split by a raw newline inside the object stays one command.
	if err := c.Write(context.Background(), websocket.MessageText, []byte("{\"cmd\":\"send\",\n\"to\":\"bob\",\"text\":\"x\",\"req\":3}")); err != nil {
		t.Fatal(err)
	}
	if ev := h.next(c); ev["event"] != "sent" {
		t.Fatalf("multi-line object: %v", ev)
	}
}

func TestJoinRefusedAndMalformed(t *testing.T) {
	h := newHarness(t, Limits{})
	h.host.admit = func(Join) error { return errors.New("the host said no") }
	for _, tc := range []struct {
		join   map[string]any
		reason string
	}{
		{map[string]any{"cmd": "join", "name": "x", "seed": "c2hvcnQ="}, "seed"},
		{map[string]any{"cmd": "join", "name": " ", "seed": seedB64()}, "name"},
		{map[string]any{"cmd": "join", "name": strings.Repeat("n", 65), "seed": seedB64()}, "name"},
		{map[string]any{"cmd": "say", "room": "r", "text": "t"}, "first message"},
		{map[string]any{"cmd": "join", "name": "ok", "seed": seedB64()}, "the host said no"},
	} {
		c, _, err := h.dial(h.origin())
		if err != nil {
			t.Fatal(err)
		}
		h.sendRaw(c, tc.join)
		ev := h.next(c)
		if ev["event"] == "waiting" {
			ev = h.next(c)
		}
		if ev["event"] != "refused" || !strings.Contains(ev["reason"].(string), tc.reason) {
			t.Errorf("%v: %v", tc.join, ev)
		}
		c.CloseNow()
	}
}

func TestJoinAttemptsLimited(t *testing.T) {
	h := newHarness(t, Limits{JoinsPerMinute: 0.001, JoinBurst: 2})
	for i := range 3 {
		c, r, err := h.dial(h.origin())
		if i < 2 {
			if err != nil {
				t.Fatalf("attempt %d: %v", i, err)
			}
			c.CloseNow()
			continue
		}
		if err == nil || r == nil || r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("attempt %d passed the limit: %v", i, err)
		}
	}
}

func TestMessageRateLimited(t *testing.T) {
	h := newHarness(t, Limits{MessagesPerSec: 0.001, MessageBurst: 3})
	c, _ := h.join()
	var sent, limited int
	for i := range 6 {
		h.sendRaw(c, map[string]any{"cmd": "send", "to": "bob", "text": "hi", "req": i})
		switch ev := h.next(c); ev["event"] {
		case "sent":
			sent++
		case "error":
			limited++
		}
	}
	if sent != 3 || limited != 3 || h.web.Stats()["web_rate_limited"] != 3 {
		t.Fatalf("sent %d, limited %d, counters %v", sent, limited, h.web.Stats())
	}
}

func TestOversizedMessageClosesSocket(t *testing.T) {
	h := newHarness(t, Limits{})
	c, _ := h.join()
	big := `{"cmd":"send","to":"b","text":"` + strings.Repeat("x", maxSocketMessage) + `"}`
	c.Write(context.Background(), websocket.MessageText, []byte(big))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the socket stayed open after an oversized message")
			}
			return
		}
	}
}

func TestUploadAndDownload(t *testing.T) {
	h := newHarness(t, Limits{MaxUpload: 1000})
	_, token := h.join()
	post := func(q, tok string, body []byte) *http.Response {
		req, _ := http.NewRequest("POST", h.srv.URL+"/api/upload?"+q, bytes.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		r, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r
	}
	if r := post("to=bob&name=a.txt", "", []byte("x")); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %d", r.StatusCode)
	}
	if r := post("to=bob&name=a.txt", "wrong", []byte("x")); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", r.StatusCode)
	}
	if r := post("to=bob&name=big", token, make([]byte, 1001)); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("over the cap: %d", r.StatusCode)
	}
	if r := post("to=bob&room=r&name=a", token, []byte("x")); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("to and room: %d", r.StatusCode)
	}
	content := []byte("hello, file")
	if r := post("to=bob&name=../../etc/passwd", token, content); r.StatusCode != 200 {
		t.Fatalf("upload: %d", r.StatusCode)
	}
	n := h.host.guests[0].n
	if len(n.files) != 1 || !strings.HasPrefix(n.files[0], h.web.opts.UploadDir) || strings.Contains(n.files[0], "/etc/") {
		t.Fatalf("sent files %v", n.files)
	}
	if got, _ := os.ReadFile(n.files[0]); !bytes.Equal(got, content) {
		t.Fatalf("stored %q", got)
	}

	get := func(id, tok string) (int, []byte) {
		req, _ := http.NewRequest("GET", h.srv.URL+"/api/file/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		r, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, b
	}
	n.mu.Lock()
	n.transfers = []node.Transfer{
		{ID: "in", State: "done", Path: n.files[0], Name: "a b.txt"},
		{ID: "out", Out: true, State: "done", Path: n.files[0]},
		{ID: "part", State: "active", Path: n.files[0]},
	}
	n.mu.Unlock()
	if code, b := get("in", token); code != 200 || !bytes.Equal(b, content) {
		t.Fatalf("download: %d %q", code, b)
	}
	for _, id := range []string{"out", "part", "none"} {
		if code, _ := get(id, token); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", id, code)
		}
	}
	if code, _ := get("in", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", code)
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"a.txt": "a.txt", "../../x": ".._.._x", "..": "", " ": "", "a\nb": "a_b", `c:\x`: "c:_x",
	} {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := safeName(strings.Repeat("é", 200)); len(got) > 255 || !strings.HasPrefix(got, "é") || strings.ContainsRune(got, 0xFFFD) {
		t.Errorf("long name cut to %d bytes: %q", len(got), got)
	}
}

func TestUploadsAtOnce(t *testing.T) {
	h := newHarness(t, Limits{UploadsAtOnce: 2})
	_, token := h.join()
	h.web.mu.Lock()
	sess := h.web.sessions[token]
	h.web.mu.Unlock()
	sess.uploads <- struct{}{} // two uploads under way
	sess.uploads <- struct{}{}
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/upload?to=bob&name=a", strings.NewReader("x"))
	req.Header.Set("Authorization", "Bearer "+token)
	r, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusTooManyRequests || h.web.Stats()["web_upload_busy"] != 1 {
		t.Fatalf("a third upload at once: %d, counters %v", r.StatusCode, h.web.Stats())
	}
}

func TestSweepUploads(t *testing.T) {
	dir := t.TempDir()
	old, fresh := filepath.Join(dir, "g1", "old"), filepath.Join(dir, "g1", "fresh")
	for _, d := range []string{old, fresh} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	if err := os.Chtimes(old, now.Add(-25*time.Hour), now.Add(-25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	sweepUploads(dir, now)
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("a day-old upload folder is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh upload folder went: %v", err)
	}
}

func FuzzParseJoin(f *testing.F) {
	f.Add([]byte(`{"cmd":"join","name":"Gus","seed":"` + seedB64() + `"}`))
	f.Add([]byte(`{"cmd":"join","name":"\u00e9\u0301","seed":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc","passphrase":"x"}`))
	f.Add([]byte(`{"cmd":"say"}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		j, err := parseJoin(msg)
		if err != nil {
			return
		}
		if len(j.Seed) != 32 || j.Name == "" || len(j.Name) > maxName || !utf8.ValidString(j.Name) ||
			strings.TrimSpace(j.Name) != j.Name || len(j.Passphrase) > 1024 {
			t.Fatalf("accepted %q as %+v", msg, j)
		}
	})
}

func TestHostPathsWithheld(t *testing.T) {
	h := newHarness(t, Limits{})
	c, _ := h.join()
	n := h.host.guests[0].n
	n.events <- node.FileDone{ID: "f1", Path: "/var/lib/parley/guests/x/downloads/a.txt", Hash: "ab"}
	ev := h.next(c)
	if ev["event"] != "file_done" || ev["id"] != "f1" || ev["hash"] != "ab" {
		t.Fatalf("file_done: %v", ev)
	}
	if _, ok := ev["path"]; ok {
		t.Fatalf("the page was told a host path: %v", ev)
	}
	n.mu.Lock()
	n.transfers = []node.Transfer{{ID: "t1", Path: "/secret/a", Name: "a"}}
	n.mu.Unlock()
	h.sendRaw(c, map[string]any{"cmd": "transfers", "req": 1})
	ev = h.next(c)
	if ev["event"] != "transfers" || strings.Contains(fmt.Sprint(ev), "/secret") {
		t.Fatalf("transfers: %v", ev)
	}
}

// TestTeamPassphrase: a closed team's page asks for the passphrase (info says
// team), and what the guest typed reaches the host's admission as it is.
func TestTeamPassphrase(t *testing.T) {
	h := newHarness(t, Limits{})
	h.host.team = true
	r, err := h.srv.Client().Get(h.srv.URL + "/api/info")
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	json.NewDecoder(r.Body).Decode(&info)
	r.Body.Close()
	if info["team"] != true {
		t.Fatalf("info %v: a closed team's page must ask for the passphrase", info)
	}
	h.host.admit = func(j Join) error {
		if j.Passphrase != "correct horse battery" {
			return errors.New("wrong team passphrase")
		}
		return nil
	}
	c, _, err := h.dial(h.origin())
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	h.sendRaw(c, map[string]any{"cmd": "join", "name": "Gus", "seed": seedB64(), "passphrase": "correct horse battery"})
	h.next(c) // waiting
	if ev := h.next(c); ev["event"] != "joined" {
		t.Fatalf("with the passphrase: %v", ev)
	}
}
