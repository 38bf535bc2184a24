package overlay

import (
	"net"
	"net/netip"
	"sync"
)

// Accepted connections are bounded per source address and in total, before the
// TLS handshake is even read, because a key costs nothing: a peer with 100
// throwaway keys is 100 links, each with its queues, buffers and goroutines, and
// a TCP connection that never finishes TLS still holds a goroutine and a
// handshake slot for handshakeTimeout. The bounds (Config.InboundLimits) are
// counted as:
//
//   - link_refused_per_source: a source address already holds PerSource
//     connections (links and handshakes together);
//   - link_refused_total: Total inbound connections are open;
//   - handshake_refused_per_source: a source has HandshakesPerSource handshakes
//     under way;
//   - handshake_refused_total: Handshakes handshakes are under way.
//
// A refused connection is closed at once, before TLS. Links this node dials are
// not counted: the node bounds those itself (node.maxDialDegree).

// InboundLimits bounds the connections others open to this node; zero fields take
// the defaults in parentheses.
type InboundLimits struct {
	// PerSource bounds a source address's connections, links and handshakes
	// together (8). An honest host has one link to us, two while a simultaneous
	// dial settles; 8 leaves room for a few nodes on one host (tests, a
	// shared machine) and lets one address hold at most 8 links' memory
	// (linkQueueBytes each).
	PerSource int
	// Total bounds inbound connections from all sources (512): above a LAN's
	// honest in-degree (every node dials at most 32; an 80-node lab measured
	// 25.6 links per node), and a bound on the goroutines and buffers links cost.
	Total int
	// HandshakesPerSource bounds TLS handshakes under way from one address (4);
	// an honest peer runs one at a time, two during a simultaneous dial.
	HandshakesPerSource int
	// Handshakes bounds handshakes under way in all (128): when a whole LAN
	// restarts at once, every peer may dial us within a second, and a refused
	// dial is retried only after a 5 s backoff.
	Handshakes int
}

func (l InboundLimits) withDefaults() InboundLimits {
	if l.PerSource == 0 {
		l.PerSource = 8
	}
	if l.Total == 0 {
		l.Total = 512
	}
	if l.HandshakesPerSource == 0 {
		l.HandshakesPerSource = 4
	}
	if l.Handshakes == 0 {
		l.Handshakes = 128
	}
	return l
}

// inboundGate counts open inbound connections and handshakes under way, in total
// and per source address.
type inboundGate struct {
	lim InboundLimits

	mu         sync.Mutex
	conns      int
	handshakes int
	bySource   map[netip.Addr]*sourceUse
}

type sourceUse struct{ conns, handshakes int }

func newInboundGate(lim InboundLimits) *inboundGate {
	return &inboundGate{lim: lim.withDefaults(), bySource: map[netip.Addr]*sourceUse{}}
}

// sourceOf is the address connections are counted under: the IP, without port or
// zone, IPv4-mapped IPv6 as IPv4.
func sourceOf(c net.Conn) netip.Addr {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap().WithZone("")
}

// admitConn takes a connection slot and a handshake slot for src, or returns the
// counter naming the bound that refused it.
func (g *inboundGate) admitConn(src netip.Addr) (refused string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	u := g.bySource[src]
	if u == nil {
		u = &sourceUse{}
	}
	switch {
	case u.conns >= g.lim.PerSource:
		return "link_refused_per_source"
	case g.conns >= g.lim.Total:
		return "link_refused_total"
	case u.handshakes >= g.lim.HandshakesPerSource:
		return "handshake_refused_per_source"
	case g.handshakes >= g.lim.Handshakes:
		return "handshake_refused_total"
	}
	u.conns++
	u.handshakes++
	g.conns++
	g.handshakes++
	g.bySource[src] = u
	return ""
}

// handshakeDone gives back src's handshake slot (the connection slot stays until
// the connection closes).
func (g *inboundGate) handshakeDone(src netip.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.handshakes--
	g.bySource[src].handshakes--
}

// connClosed gives back src's connection slot.
func (g *inboundGate) connClosed(src netip.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.conns--
	u := g.bySource[src]
	u.conns--
	if u.conns == 0 && u.handshakes == 0 {
		delete(g.bySource, src)
	}
}

// gatedConn is an accepted connection holding a slot of the gate until it is
// closed (by whichever layer closes it: a failed handshake, a refused link, the
// link's end).
type gatedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *gatedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// NetConn is the socket underneath, for socket options and counters.
func (c *gatedConn) NetConn() net.Conn { return c.Conn }
