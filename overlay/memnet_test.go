package overlay

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
)

// memNet links test overlays over in-memory pipes instead of loopback TCP. A
// goroutine blocked on a pipe is durably blocked and a socket's is not, so
// overlays on a memNet can run in a synctest bubble, where the lazy-push and
// refresh timers run on virtual time: a test that waits wantGrace takes no wall
// time and no slack for a loaded machine. TLS, admission and the links are the
// real ones; only the TCP connection underneath is a net.Pipe.
type memNet struct {
	mu   sync.Mutex
	lns  map[netip.AddrPort]*memListener
	port int // the last ephemeral port handed to a dialing side
}

func newMemNet() *memNet {
	return &memNet{lns: map[netip.AddrPort]*memListener{}, port: 40000}
}

// attach replaces ov's listener with an in-memory one at the same address and
// makes its dials go over the memNet (a before hook of startNodeCfg).
func (n *memNet) attach(ov *Overlay) {
	ap := netip.AddrPortFrom(loopback, ov.Port())
	ov.ln.Close()
	l := &memListener{addr: net.TCPAddrFromAddrPort(ap), conns: make(chan net.Conn), closed: make(chan struct{})}
	ov.ln = l
	ov.dialConn = n.dial
	n.mu.Lock()
	n.lns[ap] = l
	n.mu.Unlock()
}

var errMemRefused = errors.New("memnet: connection refused")

// dial connects to the listener at ap; it waits for the listener to accept, as
// a TCP dial waits for the handshake.
func (n *memNet) dial(ctx context.Context, ap netip.AddrPort) (net.Conn, error) {
	n.mu.Lock()
	l := n.lns[ap]
	n.port++
	local := net.TCPAddrFromAddrPort(netip.AddrPortFrom(loopback, uint16(n.port)))
	n.mu.Unlock()
	if l == nil {
		return nil, errMemRefused
	}
	near, far := net.Pipe()
	select {
	case l.conns <- memConn{Conn: far, local: l.addr, remote: local}:
		return memConn{Conn: near, local: local, remote: l.addr}, nil
	case <-l.closed:
	case <-ctx.Done():
	}
	near.Close()
	far.Close()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, errMemRefused
}

// memListener is a net.Listener fed by memNet.dial.
type memListener struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *memListener) Addr() net.Addr { return l.addr }

// memConn is one end of a pipe with the TCP addresses a socket would report,
// which the inbound gate and the link's Remote read.
type memConn struct {
	net.Conn
	local, remote net.Addr
}

func (c memConn) LocalAddr() net.Addr  { return c.local }
func (c memConn) RemoteAddr() net.Addr { return c.remote }

// startMemNode starts a node on n; config may be nil.
func startMemNode(t *testing.T, n *memNet, seed byte, name string, config func(*Config)) *testNode {
	t.Helper()
	node := startNodeCfg(t, seed, name, config, n.attach)
	node.mem = n
	return node
}

// linkBoth dials from from to to and waits until to has registered the link
// too. Dial returns once the client side is done; the listening side frees its
// handshake slot a moment later, and in a bubble the next dial comes at once,
// so a star of more than HandshakesPerSource (4) leaves from one address
// dialled back to back hit handshake_refused_per_source (1 run in 20).
func linkBoth(t *testing.T, from, to *testNode) {
	t.Helper()
	dial(t, from, to)
	waitUntil(t, to.name+" to register "+from.name, func() bool { return to.ov.Linked(from.id.ID) })
}

// memTLS makes a TLS client connection to the node over its memNet (dialRaw's
// transport for a node started by startMemNode).
func memTLS(t *testing.T, to *testNode, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	raw, err := to.mem.dial(context.Background(), to.addr())
	if err != nil {
		return nil, err
	}
	conn := tls.Client(raw, cfg)
	if err := conn.Handshake(); err != nil {
		raw.Close()
		return nil, err
	}
	return conn, nil
}

// The memNet carries a link and its frames inside a bubble: two nodes link,
// exchange records, and the one-second ping of each link runs on virtual time.
func TestMemNetLinksInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		a := startMemNode(t, n, 1, "alice", nil)
		b := startMemNode(t, n, 2, "bob", nil)
		linkBoth(t, a, b)
		waitUntil(t, "each to hold the other's record", func() bool {
			return a.ov.RecordOf(b.id.ID) != nil && b.ov.RecordOf(a.id.ID) != nil
		})
		p := dialRaw(t, 50, b)
		p.roundTrip(1)
	})
}
