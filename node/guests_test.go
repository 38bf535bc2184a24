package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/identity"
	"parley/overlay"
)

// Guest tests run several real nodes in one process, linked over loopback
// (Listen 127.0.0.1:0, no discovery): a host, its guests' nodes, and peers.

// startTestNode starts a node on loopback with cfg's guest settings; it stops
// when the test ends.
func startTestNode(t *testing.T, name string, cfg Config) *Node {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.Name = name
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.AudioIn == "" {
		cfg.AudioIn = "null"
	}
	if cfg.AudioOut == "" {
		cfg.AudioOut = "null"
	}
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}

// linkNodes opens a link from a to b.
func linkNodes(t *testing.T, a, b *Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.ov.Dial(ctx, b.ID(), b.linkAddrs()); err != nil {
		t.Fatal(err)
	}
}

// eventually polls ok until it holds or the (generous: a shared machine) time
// is up.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitEvent reads n's events until one of type T satisfies ok.
func waitEvent[T Event](t *testing.T, n *Node, ok func(T) bool) T {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-n.Events():
			if e, is := ev.(T); is && (ok == nil || ok(e)) {
				return e
			}
		case <-timeout:
			var zero T
			t.Fatalf("no %s event", zero.EventName())
			return zero
		}
	}
}

// rosterEntry is n's roster entry for id.
func rosterEntry(n *Node, id string) (PeerView, bool) {
	peers, err := n.Roster()
	if err != nil {
		return PeerView{}, false
	}
	for _, p := range peers {
		if p.ID == id {
			return p, true
		}
	}
	return PeerView{}, false
}

func guestSeed(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func seedID(t *testing.T, seed []byte) string {
	t.Helper()
	id, err := identity.FromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return id.ID.String()
}

// A guest admitted by an open host is a peer like any other to a peer on
// another node: in its roster as the host's guest, messaged both ways with
// receipts, sent a file, called.
func TestGuestIsAPeerToOthers(t *testing.T) {
	host := startTestNode(t, "host", Config{Guests: "open"})
	bob := startTestNode(t, "bob", Config{})
	linkNodes(t, bob, host)

	g, err := host.HostGuest(context.Background(), GuestJoin{Seed: guestSeed(1), Name: "  Gina\t ", From: "10.0.0.9:5000"})
	if err != nil {
		t.Fatal(err)
	}
	child := g.Node()
	gid := g.ID()
	if gid != seedID(t, guestSeed(1)) || child.ID().String() != gid {
		t.Fatalf("guest ID %s, node %s: not the seed's", gid, child.ID())
	}
	if got := child.Self().Name; got != "Gina" {
		t.Errorf("guest name %q, want it trimmed to Gina", got)
	}
	if child.ov.Port() == host.ov.Port() || child.turn != nil {
		t.Errorf("guest node shares the host's port %d or runs a TURN relay", child.ov.Port())
	}
	child.media.mu.Lock()
	browserAudio := child.media.browser
	child.media.mu.Unlock()
	if !browserAudio {
		t.Error("the guest's calls would use the host's sound devices, not the browser's")
	}
	if _, err := os.Stat(filepath.Join(host.cfg.DataDir, "guests", gid, identity.KeyFile)); err == nil {
		t.Error("the guest's key was written to disk")
	}

	eventually(t, "bob sees the guest online as the host's guest", func() bool {
		p, ok := rosterEntry(bob, gid)
		return ok && p.Online && p.Guest && p.Via == host.ID().String() && p.Name == "Gina"
	})
	eventually(t, "the host sees its guest as a guest", func() bool {
		p, ok := rosterEntry(host, gid)
		return ok && p.Online && p.Guest && p.Via == host.ID().String()
	})
	if p, _ := rosterEntry(bob, host.ID().String()); p.Guest || p.Via != "" {
		t.Errorf("the host shows as a guest: %+v", p)
	}
	eventually(t, "bob links the guest directly", func() bool {
		p, _ := rosterEntry(bob, gid)
		return p.Direct
	})

	// Messages both ways, with receipts.
	id, err := bob.Send(gid, "hello guest")
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, child, func(m MessageReceived) bool { return m.ID == id && m.Text == "hello guest" })
	waitEvent(t, bob, func(d MessageDelivered) bool { return d.ID == id })
	id, err = child.Send(bob.ID().String(), "hello bob")
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, bob, func(m MessageReceived) bool { return m.ID == id && m.From == gid })
	waitEvent(t, child, func(d MessageDelivered) bool { return d.ID == id })

	// A file from bob lands in the guest's downloads.
	src := filepath.Join(t.TempDir(), "note.txt")
	body := bytes.Repeat([]byte("parley "), 20000)
	if err := os.WriteFile(src, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.SendFile(gid, "", src); err != nil {
		t.Fatal(err)
	}
	offer := waitEvent(t, child, func(o FileOffer) bool { return o.From == bob.ID().String() })
	if err := child.AcceptFile(offer.ID); err != nil {
		t.Fatal(err)
	}
	done := waitEvent(t, child, func(d FileDone) bool { return d.ID == offer.ID && !d.Out })
	if got, err := os.ReadFile(done.Path); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("received file: %v (%d bytes, want %d)", err, len(got), len(body))
	}
	if !strings.HasPrefix(done.Path, filepath.Join(host.cfg.DataDir, "guests", gid, "downloads")) {
		t.Errorf("file landed at %s, outside the guest's downloads", done.Path)
	}

	// A call from bob rings at the guest, who answers.
	call, err := bob.Call(gid)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, child, func(c CallIncoming) bool { return c.Call == call && c.From == bob.ID().String() })
	if err := child.Answer(call); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, bob, func(c CallState) bool { return c.Call == call && c.State == "active" })
	if err := bob.Hangup(call); err != nil {
		t.Fatal(err)
	}
}

func TestGuestAdmission(t *testing.T) {
	t.Run("ask", func(t *testing.T) {
		host := startTestNode(t, "host", Config{}) // "" is ask
		ctx := context.Background()
		type result struct {
			g   *Guest
			err error
		}
		res := make(chan result, 1)
		go func() {
			g, err := host.HostGuest(ctx, GuestJoin{Seed: guestSeed(2), Name: "Ann", From: "10.0.0.2:1"})
			res <- result{g, err}
		}()
		req := waitEvent[GuestRequest](t, host, nil)
		if req.Guest != seedID(t, guestSeed(2)) || req.Name != "Ann" || req.From != "10.0.0.2:1" {
			t.Fatalf("request %+v", req)
		}
		if gs := host.Guests(); len(gs) != 1 || gs[0].State != GuestPending || gs[0].Connected {
			t.Fatalf("guests while asking: %+v", gs)
		}
		select {
		case r := <-res:
			t.Fatalf("joined before the host answered: %v", r.err)
		case <-time.After(100 * time.Millisecond):
		}
		if err := host.AdmitGuest(req.Guest, true); err != nil {
			t.Fatal(err)
		}
		r := <-res
		if r.err != nil {
			t.Fatal(r.err)
		}
		waitEvent(t, host, func(c GuestChanged) bool {
			return c.Guest.ID == req.Guest && c.Guest.State == GuestAdmitted && c.Guest.Connected
		})
		if gs := host.Guests(); len(gs) != 1 || gs[0].State != GuestAdmitted || !gs[0].Connected || gs[0].Name != "Ann" {
			t.Fatalf("guests once admitted: %+v", gs)
		}

		// Refused.
		go func() {
			g, err := host.HostGuest(ctx, GuestJoin{Seed: guestSeed(3), Name: "Eve"})
			res <- result{g, err}
		}()
		req = waitEvent(t, host, func(r GuestRequest) bool { return r.Name == "Eve" })
		if err := host.AdmitGuest(req.Guest, false); err != nil {
			t.Fatal(err)
		}
		if r := <-res; !errors.Is(r.err, ErrGuestRefused) {
			t.Fatalf("refused guest: %v", r.err)
		}
		if err := host.AdmitGuest(req.Guest, true); err == nil {
			t.Error("a refused request could still be admitted")
		}

		// The browser gives up before an answer: the request is withdrawn.
		cctx, cancel := context.WithCancel(ctx)
		go func() {
			g, err := host.HostGuest(cctx, GuestJoin{Seed: guestSeed(4), Name: "Tom"})
			res <- result{g, err}
		}()
		req = waitEvent(t, host, func(r GuestRequest) bool { return r.Name == "Tom" })
		cancel()
		if r := <-res; !errors.Is(r.err, context.Canceled) {
			t.Fatalf("withdrawn request: %v", r.err)
		}
		waitEvent(t, host, func(c GuestChanged) bool { return c.Guest.ID == req.Guest && c.Guest.State == GuestGone })
		for _, g := range host.Guests() {
			if g.ID == req.Guest {
				t.Errorf("a withdrawn request is still listed: %+v", g)
			}
		}
	})

	t.Run("off", func(t *testing.T) {
		host := startTestNode(t, "host", Config{Guests: "off"})
		if _, err := host.HostGuest(context.Background(), GuestJoin{Seed: guestSeed(5), Name: "Ann"}); !errors.Is(err, ErrGuestsOff) {
			t.Fatalf("off: %v", err)
		}
	})

	t.Run("bad join", func(t *testing.T) {
		host := startTestNode(t, "host", Config{Guests: "open"})
		for name, j := range map[string]GuestJoin{
			"short seed": {Seed: make([]byte, 31), Name: "Ann"},
			"long seed":  {Seed: make([]byte, 33), Name: "Ann"},
			"no name":    {Seed: guestSeed(6), Name: " \t\n "},
			"ctrl name":  {Seed: guestSeed(6), Name: "\x00\x07"},
		} {
			if _, err := host.HostGuest(context.Background(), j); err == nil {
				t.Errorf("%s: admitted", name)
			}
		}
		if len(host.Guests()) != 0 {
			t.Errorf("a refused join left a guest: %+v", host.Guests())
		}
		if got := host.Stats()["guest_join_failed"]; got != 4 {
			t.Errorf("guest_join_failed = %d, want 4", got)
		}
	})

	t.Run("full", func(t *testing.T) {
		// 32 browsers waiting for an answer fill the host (pending counts, so a
		// crowd of requests cannot queue without bound); the 33rd is refused.
		host := startTestNode(t, "host", Config{})
		ctx, cancel := context.WithCancel(context.Background())
		errs := make(chan error, DefaultMaxGuests)
		for i := range DefaultMaxGuests {
			go func() {
				_, err := host.HostGuest(ctx, GuestJoin{Seed: guestSeed(byte(100 + i)), Name: "crowd"})
				errs <- err
			}()
		}
		eventually(t, "32 requests pending", func() bool { return len(host.Guests()) == DefaultMaxGuests })
		if _, err := host.HostGuest(ctx, GuestJoin{Seed: guestSeed(99), Name: "one more"}); !errors.Is(err, ErrGuestsFull) {
			t.Fatalf("33rd guest: %v", err)
		}
		cancel()
		for range DefaultMaxGuests {
			<-errs
		}
	})

	t.Run("name bounded", func(t *testing.T) {
		if got, _ := guestName(strings.Repeat("é", 40)); len(got) > maxGuestName || !strings.HasPrefix(got, "éé") || strings.ContainsRune(got, '\uFFFD') {
			t.Errorf("long name bounded to %q (%d bytes)", got, len(got))
		}
		if got, _ := guestName(" <b>Al\x1bice</b>\u2028 "); got != "<b>Alice</b>" {
			t.Errorf("name %q", got)
		}
	})
}

// Two guests of one host do not link to each other (siblingGuest) yet talk
// and share files through their host like any two peers.
func TestGuestsOfOneHostTalkThroughIt(t *testing.T) {
	host := startTestNode(t, "host", Config{Guests: "open"})
	ctx := context.Background()
	g1, err := host.HostGuest(ctx, GuestJoin{Seed: guestSeed(20), Name: "one"})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := host.HostGuest(ctx, GuestJoin{Seed: guestSeed(21), Name: "two"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := g1.Node(), g2.Node()
	eventually(t, "each guest sees the other as the host's guest", func() bool {
		p, _ := rosterEntry(a, g2.ID())
		q, _ := rosterEntry(b, g1.ID())
		return p.Online && p.Guest && q.Online && q.Guest
	})
	id, err := a.Send(g2.ID(), "hi sibling")
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, b, func(m MessageReceived) bool { return m.ID == id })
	waitEvent(t, a, func(d MessageDelivered) bool { return d.ID == id })

	src := filepath.Join(t.TempDir(), "pic.bin")
	body := bytes.Repeat([]byte{1, 2, 3, 5, 8}, 50000)
	if err := os.WriteFile(src, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SendFile(g1.ID(), "", src); err != nil {
		t.Fatal(err)
	}
	offer := waitEvent(t, a, func(o FileOffer) bool { return o.From == g2.ID() })
	if err := a.AcceptFile(offer.ID); err != nil {
		t.Fatal(err)
	}
	done := waitEvent(t, a, func(d FileDone) bool { return d.ID == offer.ID })
	if got, err := os.ReadFile(done.Path); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("file between guests: %v", err)
	}
	if a.ov.Linked(b.ID()) {
		t.Error("two guests of one host linked to each other")
	}
	// Nor would the reconnect loop dial one: the sibling is in the roster with
	// its address, and still no candidate.
	eventually(t, "the sibling's address is in the roster", func() bool {
		p, ok, _ := a.db.GetPeer(g2.ID())
		return ok && len(p.Addrs) > 0
	})
	p, _, _ := a.db.GetPeer(g2.ID())
	if _, ok := a.dialCandidate(p); ok {
		t.Error("a guest would dial its host's other guest")
	}
	if _, ok := host.dialCandidate(p); !ok && !host.ov.Linked(b.ID()) {
		t.Error("the check above proves nothing: not even the host would dial the guest")
	}
}

// A guest's node beside a host listening on the interfaces in use (Listen "",
// as the binary runs) takes a port the OS picks: never the default port, which
// belongs to the host (or to the next instance on this machine).
func TestGuestNodeNeverTakesTheDefaultPort(t *testing.T) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(overlay.DefaultPort)))
	if err != nil {
		t.Skipf("the default port is in use here, so this would prove nothing: %v", err)
	}
	ln.Close()
	id, err := identity.FromSeed(guestSeed(30))
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{DataDir: t.TempDir(), Name: "guest", AudioIn: "null", AudioOut: "null",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), guest: &guestConfig{identity: id}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	if g.ov.Port() == overlay.DefaultPort {
		t.Errorf("the guest's node took the default port %d", overlay.DefaultPort)
	}
	if g.turn != nil {
		t.Error("the guest's node runs a TURN relay")
	}
}
