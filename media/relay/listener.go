package relay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/pion/stun"
	"github.com/pion/turn/v2"

	"parley/internal/pionlog"
)

// listener is the TURN server on one local address. Each address gets its own
// pion server so that SetAddrs can add or drop one address without disturbing
// calls relayed on the others.
type listener struct {
	s    *Server
	addr netip.Addr
	// subnets are the on-link prefixes of addr's interface, read when the
	// listener opens and at every SetAddrs (guarded by s.mu): where its
	// allocations may send (policy.go).
	subnets []netip.Prefix
	gate    *gateConn
	turn    *turn.Server
	// byClient maps a client's transport address to its allocation on this
	// listener (guarded by s.mu).
	byClient map[netip.AddrPort]*relayConn
}

func (s *Server) listen(a netip.Addr) (*listener, error) {
	s.mu.RLock()
	port := s.port
	s.mu.RUnlock()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, uint16(port))))
	if err != nil {
		return nil, fmt.Errorf("relay: listen on %v: %w", a, err)
	}
	if port == 0 { // the first ephemeral choice becomes the port of every address
		s.mu.Lock()
		s.port = conn.LocalAddr().(*net.UDPAddr).Port
		s.mu.Unlock()
	}
	l := &listener{
		s: s, addr: a, subnets: onLinkPrefixes(a),
		gate:     &gateConn{UDPConn: conn, done: make(chan struct{})},
		byClient: map[netip.AddrPort]*relayConn{},
	}
	l.turn, err = turn.NewServer(turn.ServerConfig{
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            l.gate,
			RelayAddressGenerator: l,
			PermissionHandler:     l.permit,
		}},
		LoggerFactory: pionlog.Factory{Log: s.log},
		Realm:         s.cfg.Realm,
		AuthHandler:   l.auth,
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("relay: TURN server on %v: %w", a, err), conn.Close())
	}
	return l, nil
}

// close ends this listener's allocations, then the listener, and waits until
// pion's read loop has seen the socket close.
func (l *listener) close() error {
	l.s.mu.Lock()
	rcs := make([]*relayConn, 0, len(l.byClient))
	for _, rc := range l.byClient {
		rcs = append(rcs, rc)
	}
	l.s.mu.Unlock()
	for _, rc := range rcs {
		_ = rc.Close()
	}
	err := l.turn.Close()
	<-l.gate.done
	if err != nil {
		return fmt.Errorf("relay: close listener %v: %w", l.addr, err)
	}
	return nil
}

// auth is pion's AuthHandler. pion checks MESSAGE-INTEGRITY itself after this
// returns a key, which would leave a wrong password indistinguishable from a right
// one here; checking the request the gate kept lets us count (and refuse) it.
func (l *listener) auth(username, realm string, src net.Addr) ([]byte, bool) {
	s, req := l.s, &l.gate.cur
	if req.src != addrPortOf(src) { // not the request the gate saw: never expected
		s.log.Warn("relay: auth for an unexpected request; refusing", "client", src)
		return nil, false
	}
	proves := func(key []byte) bool {
		return req.msg != nil && stun.MessageIntegrity(key).Check(req.msg) == nil
	}
	c, key, v := s.ver.verify(username, realm, proves, s.cfg.Now(), s.isRevoked)
	if v == verdictOK && s.holderRevoked(c) {
		v = verdictRevoked
	}
	if v == verdictExpired && l.holds(req.src, username) {
		// Expiry bounds when an allocation may start; the allocation it started may
		// keep refreshing (calls outlast the TTL) until released or revoked.
		v = verdictOK
	}
	switch v {
	case verdictOK:
		req.auth = &c
		return key, true
	case verdictExpired:
		s.stats.refusedExpired.Add(1)
	case verdictRevoked:
		s.stats.refusedRevoked.Add(1)
	default:
		s.stats.refusedAuth.Add(1)
	}
	s.log.Debug("relay: credential refused", "client", src, "username", username, "reason", v.String())
	s.changed()
	return nil, false
}

// holds reports whether client has a live allocation here under username.
func (l *listener) holds(client netip.AddrPort, username string) bool {
	l.s.mu.RLock()
	defer l.s.mu.RUnlock()
	rc := l.byClient[client]
	return rc != nil && rc.username == username
}

// permit is pion's PermissionHandler, asked for CreatePermission and ChannelBind.
func (l *listener) permit(client net.Addr, peerIP net.IP) bool {
	s := l.s
	ip, ok := netip.AddrFromSlice(peerIP)
	ip = ip.Unmap()
	if !ok || !s.allowPeer(l, ip) {
		s.stats.refusedPeer.Add(1)
		s.log.Debug("relay: peer refused by policy", "client", client, "peer", ip)
		s.changed()
		return false
	}
	s.mu.RLock()
	rc := l.byClient[addrPortOf(client)]
	s.mu.RUnlock()
	if rc != nil {
		rc.permit(ip)
	}
	return true
}

// Validate is part of turn.RelayAddressGenerator.
func (l *listener) Validate() error { return nil }

// AllocatePacketConn is where an allocation gets its relayed socket, and so where
// the session cap holds: beyond MaxSessions pion answers 508 Insufficient Capacity.
func (l *listener) AllocatePacketConn(network string, requestedPort int) (net.PacketConn, net.Addr, error) {
	s, req := l.s, l.gate.cur
	if req.auth == nil {
		return nil, nil, errors.New("relay: allocation without an accepted credential")
	}
	if network != "udp4" {
		return nil, nil, fmt.Errorf("relay: %s relays are not offered", network)
	}
	s.mu.Lock()
	rc, err := l.openLocked(req, requestedPort)
	s.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	s.log.Info("relay: allocation", "call", rc.claims.callID, "holder", rc.claims.holder,
		"client", rc.client, "relayed", rc.local)
	s.changed()
	return rc, rc.LocalAddr(), nil
}

func (l *listener) openLocked(req request, port int) (*relayConn, error) {
	s := l.s
	if s.closed {
		return nil, ErrClosed
	}
	if n, limit := s.heldLocked(req.auth.callID, req.auth.holder), perCredential*len(s.listeners); n >= limit {
		s.stats.refusedCredentialCap.Add(1)
		s.log.Info("relay: allocation refused at the credential's cap", "cap", limit,
			"call", req.auth.callID, "holder", req.auth.holder)
		return nil, fmt.Errorf("relay: credential holds %d allocations, the cap", n)
	}
	if n := s.fromHostLocked(req.src.Addr()); s.cfg.MaxSessionsPerHost > 0 && n >= s.cfg.MaxSessionsPerHost {
		s.stats.refusedHostCap.Add(1)
		s.log.Info("relay: allocation refused at the per-host cap", "cap", s.cfg.MaxSessionsPerHost,
			"client", req.src, "call", req.auth.callID, "holder", req.auth.holder)
		return nil, fmt.Errorf("relay: %v holds %d allocations, the cap", req.src.Addr(), n)
	}
	if limit := s.sessionCapLocked(req.auth.callID); len(s.relays) >= limit {
		s.stats.refusedCap.Add(1)
		s.log.Info("relay: allocation refused at session cap", "cap", limit,
			"call", req.auth.callID, "holder", req.auth.holder)
		return nil, fmt.Errorf("relay: %d sessions, the cap", len(s.relays))
	}
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(l.addr, uint16(port))))
	if err != nil {
		return nil, fmt.Errorf("relay: open relayed socket on %v: %w", l.addr, err)
	}
	rc := &relayConn{
		UDPConn: conn, s: s, l: l,
		local:  addrPortOf(conn.LocalAddr()),
		client: req.src, username: formatUsername(*req.auth), claims: *req.auth,
		peers: map[netip.Addr]struct{}{},
	}
	s.relays[rc.local] = rc
	l.byClient[rc.client] = rc
	s.stats.allocations.Add(1)
	return rc, nil
}

// AllocateConn is part of turn.RelayAddressGenerator; TCP relays (RFC 6062) are
// not offered.
func (l *listener) AllocateConn(string, int) (net.Conn, net.Addr, error) {
	return nil, nil, errors.New("relay: TCP relays are not offered")
}

// gateConn is the listening socket as pion sees it. It keeps the request pion is
// about to handle so the callbacks pion makes while handling it (auth, relay
// address generation) can see the whole message and who sent it. pion reads each
// PacketConn from one goroutine and calls those callbacks from that goroutine
// before reading again, so cur needs no lock.
type gateConn struct {
	*net.UDPConn
	cur      request
	done     chan struct{} // closed once reads fail, i.e. the socket closed
	doneOnce sync.Once
}

// request is what the gate knows about the datagram being handled.
type request struct {
	src  netip.AddrPort
	msg  *stun.Message // nil unless a well-formed STUN request
	auth *claims       // set by auth once the credential is accepted
}

func (g *gateConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := g.UDPConn.ReadFrom(p)
	if err != nil {
		g.doneOnce.Do(func() { close(g.done) })
		return n, addr, err
	}
	g.cur = request{src: addrPortOf(addr)}
	if isSTUNRequest(p[:n]) {
		m := &stun.Message{Raw: append([]byte(nil), p[:n]...)}
		if m.Decode() == nil {
			g.cur.msg = m
		}
	}
	return n, addr, nil
}

// isSTUNRequest is a cheap test that keeps the gate from decoding indications and
// channel data, the bulk of what a listener receives.
func isSTUNRequest(b []byte) bool {
	const classMask = 0x0110 // C1 and C0 bits of the message type; both 0 = request
	return stun.IsMessage(b) && binary.BigEndian.Uint16(b[0:2])&classMask == 0
}

// addrPortOf converts the addresses the net package and pion hand around.
func addrPortOf(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
