package relay

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// relayConn is an allocation's relayed socket. pion reads it for datagrams from
// peers and writes to it what clients send; both pass through here, which is
// where the bandwidth budget, the loop guard and session accounting live.
type relayConn struct {
	*net.UDPConn
	s        *Server
	l        *listener
	local    netip.AddrPort // the relayed address
	client   netip.AddrPort // the client's transport address at the listener
	username string
	claims   claims

	mu sync.Mutex
	// peers are the addresses this allocation ever asked permission for: a
	// superset of pion's live permissions, so dropping others early never loses a
	// datagram pion would have relayed, and strangers cannot spend the budget.
	peers map[netip.Addr]struct{}

	bytes     atomic.Uint64
	closeOnce sync.Once
}

func (c *relayConn) permit(ip netip.Addr) {
	c.mu.Lock()
	c.peers[ip] = struct{}{}
	c.mu.Unlock()
}

func (c *relayConn) permitted(ip netip.Addr) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.peers[ip]
	return ok
}

// ReadFrom returns the next datagram from a permitted peer that fits the budget;
// the others are dropped and counted.
func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	s := c.s
	for {
		n, from, err := c.UDPConn.ReadFromUDPAddrPort(p)
		if err != nil {
			return 0, nil, err
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		switch {
		case !c.permitted(from.Addr()):
			s.stats.droppedUnpermitted.Add(1)
		case !s.meter.allow(n):
			s.stats.droppedBandwidth.Add(1)
		default:
			c.count(n)
			// pion type-asserts *net.UDPAddr.
			return n, net.UDPAddrFromAddrPort(from), nil
		}
		s.changed()
	}
}

// WriteTo sends a client's datagram to a peer. A datagram refused here reports
// success: pion treats short writes as errors worth logging, and UDP loss is what
// the sender must expect anyway.
func (c *relayConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	s := c.s
	to := addrPortOf(addr)
	listener, relay, own := s.classify(to)
	switch {
	case listener:
		// A relayed socket feeding a TURN listener would let one allocation
		// masquerade as a client of another, nesting relays without bound.
		s.stats.droppedLoop.Add(1)
		s.changed()
		return len(p), nil
	case own && !relay:
		// One of our addresses, but not a relayed socket: a service of this
		// host, which a peer must not reach through its relay.
		s.stats.droppedSelf.Add(1)
		s.changed()
		return len(p), nil
	case relay:
		// Both ends relay through us: the budget is charged once, when the
		// receiving relayed socket reads it.
		return c.UDPConn.WriteTo(p, addr)
	case !s.meter.allow(len(p)):
		s.stats.droppedBandwidth.Add(1)
		s.changed()
		return len(p), nil
	}
	n, err := c.UDPConn.WriteTo(p, addr)
	if err == nil {
		c.count(n)
	}
	return n, err
}

func (c *relayConn) count(n int) {
	c.bytes.Add(uint64(n))
	c.s.stats.bytesRelayed.Add(uint64(n))
	c.s.stats.packetsRelayed.Add(1)
	c.s.changed()
}

// Close ends the allocation's socket and frees its session slot. pion closes
// again when it deletes the allocation; only the first close does anything.
func (c *relayConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		s := c.s
		s.mu.Lock()
		if s.relays[c.local] == c {
			delete(s.relays, c.local)
		}
		if c.l.byClient[c.client] == c {
			delete(c.l.byClient, c.client)
		}
		s.mu.Unlock()
		err = c.UDPConn.Close()
		s.log.Info("relay: allocation ended", "call", c.claims.callID, "holder", c.claims.holder,
			"client", c.client, "relayed", c.local, "bytes", c.bytes.Load())
		s.changed()
	})
	return err
}

// classify says whether to is one of our TURN listeners or relayed sockets,
// and whether it is on one of our addresses at all (own).
func (s *Server) classify(to netip.AddrPort) (listener, relay, own bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, own = s.listeners[to.Addr()]
	if own && int(to.Port()) == s.port {
		return true, false, true
	}
	_, relay = s.relays[to]
	return false, relay, own
}
