package relay

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by operations on a closed Server.
var ErrClosed = errors.New("relay: server closed")

// Server is one peer's TURN relay: a UDP listener per local address, per-call
// credentials, and caps on sessions and bandwidth.
type Server struct {
	cfg   Config
	log   *slog.Logger
	ver   verifier
	meter *meter
	stats counters
	// hook, when set (tests), is called after every change of sessions or counters.
	hook atomic.Pointer[func()]

	setMu sync.Mutex // serialises SetAddrs, Close

	mu        sync.RWMutex
	closed    bool
	port      int
	listeners map[netip.Addr]*listener
	relays    map[netip.AddrPort]*relayConn // live allocations by relayed address
	// revoked maps a call ID to when the entry may be forgotten: by then every
	// credential issued before the revocation has expired.
	revoked map[string]time.Time
	// urgent maps an urgent call's ID to when its credentials expire (urgent.go).
	urgent map[string]time.Time
}

// Load is what the node publishes so callers can avoid a busy relay.
type Load struct {
	Sessions      int     // live allocations
	BitsPerSecond float64 // relayed payload, exponentially averaged (5 s)
}

// New starts a relay on cfg.Addrs. An empty address list is allowed: the server
// then waits for SetAddrs.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("relay: credential secret: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Log.With("component", "relay"),
		ver:       verifier{secret: secret, realm: cfg.Realm},
		meter:     newMeter(cfg.MaxBitsPerSecond, cfg.Now),
		port:      cfg.Port,
		listeners: map[netip.Addr]*listener{},
		relays:    map[netip.AddrPort]*relayConn{},
		revoked:   map[string]time.Time{},
	}
	if err := s.SetAddrs(cfg.Addrs); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// Port is the UDP port the relay serves on (on every address); 0 while an
// ephemeral port has not been chosen yet.
func (s *Server) Port() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.port
}

// SetAddrs makes the relay serve on exactly addrs: listeners for addresses no
// longer wanted close (ending their allocations), new ones open, unchanged ones
// and their calls carry on. IPv6 addresses are skipped. Addresses that failed are
// reported in the error; the others are served.
func (s *Server) SetAddrs(addrs []netip.Addr) error {
	s.setMu.Lock()
	defer s.setMu.Unlock()
	var errs []error
	want := map[netip.Addr]bool{}
	for _, a := range addrs {
		a = a.Unmap()
		switch {
		case neverPeer(a):
			errs = append(errs, fmt.Errorf("relay: cannot serve on %v", a))
		case !a.Is4():
			s.log.Debug("relay: skipping non-IPv4 address", "addr", a)
		default:
			want[a] = true
		}
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	var stop []*listener
	for a, l := range s.listeners {
		if !want[a] {
			stop = append(stop, l)
			delete(s.listeners, a)
		}
	}
	var start []netip.Addr
	var keep []*listener
	for a := range want {
		if l := s.listeners[a]; l == nil {
			start = append(start, a)
		} else {
			keep = append(keep, l)
		}
	}
	s.mu.Unlock()
	// A kept address may sit on a renumbered subnet: read its subnets again
	// (the node calls SetAddrs before every grant).
	for _, l := range keep {
		subnets := onLinkPrefixes(l.addr)
		s.mu.Lock()
		l.subnets = subnets
		s.mu.Unlock()
	}

	for _, l := range stop {
		if err := l.close(); err != nil {
			errs = append(errs, err)
		}
		s.log.Info("relay: stopped serving", "addr", l.addr)
	}
	for _, a := range start {
		l, err := s.listen(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.mu.Lock()
		s.listeners[a] = l
		s.mu.Unlock()
		s.log.Info("relay: serving", "addr", a, "port", s.Port())
	}
	return errors.Join(errs...)
}

// Close stops every listener and ends every allocation.
func (s *Server) Close() error {
	s.setMu.Lock()
	defer s.setMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ls := s.listeners
	s.listeners = map[netip.Addr]*listener{}
	s.mu.Unlock()
	var errs []error
	for _, l := range ls {
		if err := l.close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Issue grants holder (a peer ID) the right to allocate on this relay for callID
// until CredentialTTL from now, or until Revoke(callID). Both must be 1 to 128
// bytes of [A-Za-z0-9._-]; otherwise the result is the zero Credentials, which no
// client can use, and the mistake is logged.
func (s *Server) Issue(callID, holder string) Credentials {
	if !validField(callID) || !validField(holder) {
		s.log.Error("relay: cannot issue credentials: call ID and holder must be 1-128 bytes of [A-Za-z0-9._-]",
			"call_len", len(callID), "holder_len", len(holder))
		return Credentials{}
	}
	exp := s.cfg.Now().Add(s.cfg.CredentialTTL).Unix()
	user := formatUsername(claims{expiry: exp, callID: callID, holder: holder})
	return Credentials{
		Username: user,
		Password: s.ver.password(user),
		Expires:  time.Unix(exp, 0),
		Realm:    s.cfg.Realm,
		Port:     s.Port(),
	}
}

// Revoke ends callID's allocations and refuses its credentials from now on. Call
// IDs are single-use: credentials issued for a revoked call are refused too.
func (s *Server) Revoke(callID string) {
	now := s.cfg.Now()
	s.mu.Lock()
	for id, forget := range s.revoked {
		if now.After(forget) {
			delete(s.revoked, id)
		}
	}
	s.revoked[callID] = now.Add(s.cfg.CredentialTTL + time.Second)
	var end []*relayConn
	for _, rc := range s.relays {
		if rc.claims.callID == callID {
			end = append(end, rc)
		}
	}
	s.mu.Unlock()
	for _, rc := range end {
		_ = rc.Close() // Close logs what it ended; the socket error is of no use here
	}
	s.log.Info("relay: call revoked", "call", callID, "allocations_ended", len(end))
}

// RevokeHolder ends the allocations made with credentials issued to holder for
// callID (one call leg's) and refuses those credentials from now on; the
// call's other credentials are untouched. The node calls it when a participant
// says the leg ended.
func (s *Server) RevokeHolder(callID, holder string) {
	now := s.cfg.Now()
	s.mu.Lock()
	s.revoked[callID+":"+holder] = now.Add(s.cfg.CredentialTTL + time.Second)
	var end []*relayConn
	for _, rc := range s.relays {
		if rc.claims.callID == callID && rc.claims.holder == holder {
			end = append(end, rc)
		}
	}
	s.mu.Unlock()
	for _, rc := range end {
		_ = rc.Close()
	}
	s.log.Info("relay: credential revoked", "call", callID, "holder", holder, "allocations_ended", len(end))
}

// holderRevoked reports whether c's (call, holder) pair was revoked; the key
// cannot collide with a call ID, which has no ':'.
func (s *Server) holderRevoked(c claims) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.revoked[c.callID+":"+c.holder]
	return ok
}

// perCredential is how many allocations one credential may hold per relay
// address: a credential is issued for one call leg, whose two parties (the
// asker, and the peer it hands the credential to in its invite) each allocate
// once on every relay address ICE is given. More is someone hoarding sessions.
const perCredential = 2

// heldLocked counts the live allocations made with credentials for (callID,
// holder), whatever their expiry. s.mu must be held.
func (s *Server) heldLocked(callID, holder string) int {
	n := 0
	for _, rc := range s.relays {
		if rc.claims.callID == callID && rc.claims.holder == holder {
			n++
		}
	}
	return n
}

// fromHostLocked counts the live allocations whose client is at ip. s.mu must
// be held.
func (s *Server) fromHostLocked(ip netip.Addr) int {
	n := 0
	for _, rc := range s.relays {
		if rc.client.Addr() == ip {
			n++
		}
	}
	return n
}

func (s *Server) isRevoked(callID string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.revoked[callID]
	return ok
}

// Load reports live allocations and the recent relayed rate.
func (s *Server) Load() Load {
	s.mu.RLock()
	n := len(s.relays)
	s.mu.RUnlock()
	return Load{Sessions: n, BitsPerSecond: s.meter.bitsPerSecond()}
}

// Stats returns the relay's counters (see counters for their meaning).
func (s *Server) Stats() map[string]uint64 { return s.stats.snapshot() }

// changed tells a test hook, if any, that sessions or counters moved.
func (s *Server) changed() {
	if f := s.hook.Load(); f != nil {
		(*f)()
	}
}
