package relay

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v2/test"
	"github.com/pion/turn/v2"

	"parley/internal/pionlog"
)

// leakCheck fails the test if goroutines outlive it. Registered first, it runs
// after every other cleanup (servers, clients) of the test.
func leakCheck(t *testing.T) {
	t.Helper()
	t.Cleanup(test.CheckRoutines(t))
}

// clock is a settable clock for credential expiry and the bandwidth bucket.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuffer collects everything the relay logs, pion's debug lines included, so a
// test can check what never appears there.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var loopback = mustAddr("127.0.0.1")

// loopbackPeers is the peer policy of the tests that relay between clients on
// 127.0.0.1: the real policy never relays to loopback (TestPeerPolicyRefuses
// checks that), but a unit test has no other network.
func loopbackPeers(a netip.Addr) bool { return a.IsLoopback() }

// startServer runs a relay on 127.0.0.1 on a free port, closed when the test
// ends. Unless cfg says otherwise it relays between loopback clients
// (loopbackPeers); startServerPolicy keeps the real peer policy.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.AllowPeer == nil {
		cfg.AllowPeer = loopbackPeers
	}
	return startServerPolicy(t, cfg)
}

// startServerPolicy is startServer with the peer policy cfg gives (nil: the
// real one).
func startServerPolicy(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Addrs == nil {
		cfg.Addrs = addrs(loopback)
	}
	if cfg.Port == 0 {
		cfg.Port = -1
	}
	if cfg.MaxSessionsPerHost == 0 {
		cfg.MaxSessionsPerHost = -1 // every test client is on 127.0.0.1
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// peer is a pion TURN client on 127.0.0.1 with one allocation.
type peer struct {
	conn   net.PacketConn
	client *turn.Client
	relay  net.PacketConn
	once   sync.Once
}

func (p *peer) close() {
	p.once.Do(func() {
		_ = p.relay.Close() // sends a zero-lifetime refresh: the server frees the slot
		p.client.Close()
		_ = p.conn.Close()
	})
}

// dialAt allocates with cred on the TURN listener at server (host:port).
func dialAt(t *testing.T, server string, cred Credentials) (*peer, error) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("client socket: %v", err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{
		TURNServerAddr: server,
		Username:       cred.Username,
		Password:       cred.Password,
		Realm:          cred.Realm,
		Conn:           conn,
		LoggerFactory:  pionlog.Factory{Log: slog.New(slog.DiscardHandler)},
	})
	if err != nil {
		_ = conn.Close()
		t.Fatalf("turn client: %v", err)
	}
	if err := c.Listen(); err != nil {
		c.Close()
		_ = conn.Close()
		t.Fatalf("client listen: %v", err)
	}
	relay, err := c.Allocate()
	if err != nil {
		c.Close()
		_ = conn.Close()
		return nil, err
	}
	p := &peer{conn: conn, client: c, relay: relay}
	t.Cleanup(p.close)
	return p, nil
}

func dial(t *testing.T, s *Server, cred Credentials) (*peer, error) {
	t.Helper()
	return dialAt(t, fmt.Sprintf("127.0.0.1:%d", s.Port()), cred)
}

func mustDial(t *testing.T, s *Server, cred Credentials) *peer {
	t.Helper()
	p, err := dial(t, s, cred)
	if err != nil {
		t.Fatalf("allocate with %s: %v", cred.Username, err)
	}
	return p
}

// permit asks the server to let p's allocation exchange data with the relayed
// address of other.
func permit(t *testing.T, p, other *peer) {
	t.Helper()
	if err := p.client.CreatePermission(other.relay.LocalAddr()); err != nil {
		t.Fatalf("CreatePermission: %v", err)
	}
}

// receive reads one datagram from p's relayed address.
func receive(t *testing.T, p *peer) ([]byte, net.Addr) {
	t.Helper()
	buf := make([]byte, 2048)
	if err := p.relay.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatalf("SetReadDeadline: %v", err)
	}
	n, from, err := p.relay.ReadFrom(buf)
	if err != nil {
		t.Fatalf("read relayed datagram: %v", err)
	}
	return buf[:n], from
}

// waitFor waits until cond holds, re-checking whenever the server reports a
// change (no polling); the deadline only turns a hang into a failure.
func waitFor(t *testing.T, s *Server, what string, cond func() bool) {
	t.Helper()
	ch := make(chan struct{}, 1)
	f := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	s.hook.Store(&f)
	defer s.hook.Store(nil)
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; stats %v", what, s.Stats())
		}
	}
}

func stat(s *Server, name string) uint64 { return s.Stats()[name] }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func addrs(a ...netip.Addr) []netip.Addr { return a }

func mustDialAt(t *testing.T, server string, cred Credentials) *peer {
	t.Helper()
	p, err := dialAt(t, server, cred)
	if err != nil {
		t.Fatalf("allocate at %s: %v", server, err)
	}
	return p
}
