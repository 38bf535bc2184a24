package sip

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"parley/node"
)

// Server is the registrar and user agent of one node.
type Server struct {
	n      *node.Node
	log    *slog.Logger
	port   int
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	nonces nonces
	limits *limiter
	now    func() time.Time
	// minExpires is the shortest registration accepted (Config.MinExpires).
	minExpires time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	devices map[string]*device // by account, while registered
	calls   map[string]*call   // by SIP Call-ID
}

var defaultLoggerOnce sync.Once

// Config is what Start needs besides the node.
type Config struct {
	Addr string // host:port for UDP and TCP, e.g. ":5060"
	Log  *slog.Logger
	// MinExpires is the shortest registration accepted (0: 60 s); tests set
	// it low to see a registration expire.
	MinExpires time.Duration
}

const (
	// defaultExpires is a registration's life when the phone names none.
	defaultExpires = time.Hour
	// maxExpires caps what a phone may ask: a phone that vanished is shown
	// online at most this long.
	maxExpires = 2 * time.Hour
	// defaultMinExpires: a phone re-registering more often than once a
	// minute is told 423 (RFC 3261 §10.3).
	defaultMinExpires = time.Minute
	// maxBody bounds a MESSAGE's text and an INVITE's SDP.
	maxBody = 8 << 10
)

// Start listens on cfg.Addr (UDP and TCP) and serves until Close.
func Start(n *node.Node, cfg Config) (*Server, error) {
	host, portText, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("sip %q: %w", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("sip %q: a fixed port is needed (phones are configured with it)", cfg.Addr)
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	minExpires := defaultMinExpires
	if cfg.MinExpires > 0 {
		minExpires = cfg.MinExpires
	}
	stack := slog.New(quiet{log.Handler()}).With("skin", "sip", "part", "sipgo")
	// The transport layer's parse errors go to sipgo's default logger, one
	// per process: set once (a registrar's transport goroutines may still
	// read it while a later registrar starts, as in the tests).
	defaultLoggerOnce.Do(func() { sip.SetDefaultLogger(stack) })
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("Parley"))
	if err != nil {
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(stack))
	if err != nil {
		ua.Close()
		return nil, err
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(stack))
	if err != nil {
		ua.Close()
		return nil, err
	}
	s := &Server{n: n, log: log.With("skin", "sip"), port: port, ua: ua, srv: srv, client: client,
		now: time.Now, minExpires: minExpires, limits: newLimiter(time.Now), devices: map[string]*device{}, calls: map[string]*call{}}
	s.nonces.now = time.Now
	rand.Read(s.nonces.secret[:])
	s.ctx, s.cancel = context.WithCancel(context.Background())
	srv.OnRegister(s.guard(s.onRegister))
	srv.OnMessage(s.guard(s.onMessage))
	srv.OnInvite(s.guard(s.onInvite))
	srv.OnAck(s.onAck)
	srv.OnBye(s.guard(s.onBye))
	srv.OnCancel(s.guard(s.onCancel))
	srv.OnOptions(s.guard(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	}))
	srv.OnNoRoute(s.guard(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil))
	}))
	// Bind both now, so a taken port is an error here, not a log line later.
	bind := host
	udp, err := net.ListenPacket("udp", net.JoinHostPort(bind, portText))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("sip: %w", err)
	}
	tcp, err := net.Listen("tcp", net.JoinHostPort(bind, portText))
	if err != nil {
		udp.Close()
		ua.Close()
		return nil, fmt.Errorf("sip: %w", err)
	}
	s.wg.Go(func() { srv.ServeUDP(udp) })
	s.wg.Go(func() { srv.ServeTCP(tcp) })
	go func() { <-s.ctx.Done(); udp.Close(); tcp.Close() }()
	n.SetSIPDialer(s.dialDirect) // {"cmd":"call","sip":…} (direct.go)
	s.log.Info("sip registrar listening", "addr", cfg.Addr, "realm", n.SIPRealm())
	return s, nil
}

// Close stops serving and unregisters every phone (their nodes say goodbye).
func (s *Server) Close() {
	s.n.SetSIPDialer(nil)
	s.cancel()
	s.mu.Lock()
	devs := make([]*device, 0, len(s.devices))
	for _, d := range s.devices {
		devs = append(devs, d)
	}
	s.mu.Unlock()
	for _, d := range devs {
		d.dev.Detach()
	}
	s.srv.Close()
	s.ua.Close()
	s.wg.Wait()
}

// guard applies the per-source bounds before a handler: off-LAN sources get
// 403, a source over its rate gets nothing (dropped and counted).
func (s *Server) guard(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		src, ok := sourceAddr(req)
		if !ok || !s.n.OnLAN(src) {
			s.n.CountSIP("refused_off_lan")
			tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden (not on this LAN)", nil))
			return
		}
		if !s.limits.allow(src.String()) {
			s.n.CountSIP("flood_dropped")
			return
		}
		h(req, tx)
	}
}

// sourceAddr is the IP a request came from (the transport's, not Via's).
func sourceAddr(req *sip.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// authenticate checks req's digest credentials (Authorization for REGISTER,
// Proxy-Authorization otherwise) and answers the challenge or refusal
// itself; it returns the account on success.
func (s *Server) authenticate(req *sip.Request, tx sip.ServerTransaction, src netip.Addr) (string, bool) {
	hdr, chalHdr, code, reason := "Authorization", "WWW-Authenticate", sip.StatusUnauthorized, "Unauthorized"
	if req.Method != sip.REGISTER {
		hdr, chalHdr, code, reason = "Proxy-Authorization", "Proxy-Authenticate", sip.StatusProxyAuthRequired, "Proxy Authentication Required"
	}
	realm := s.n.SIPRealm()
	ask := func(stale bool) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		res.AppendHeader(sip.NewHeader(chalHdr, challenge(realm, s.nonces.make(src.String()), stale)))
		tx.Respond(res)
	}
	h := req.GetHeader(hdr)
	if h == nil {
		ask(false)
		return "", false
	}
	c, err := parseCredentials(h.Value())
	if err != nil {
		s.n.CountSIP("auth_malformed")
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return "", false
	}
	if s.limits.backedOff(src.String(), c.Username) {
		s.n.CountSIP("auth_backoff")
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return "", false
	}
	ok, stale := s.nonces.check(c.Nonce, src.String())
	if !ok {
		ask(stale)
		return "", false
	}
	ha1, known := s.n.SIPAccountHA1(c.Username)
	if !known {
		ha1 = node.SIPHA1(c.Username, realm, "") // the same work for unknown accounts
	}
	if !verify(ha1, realm, string(req.Method), c) || !known {
		s.n.CountSIP("auth_failed")
		if s.limits.failed(src.String(), c.Username) {
			s.log.Warn("sip: repeated wrong passwords", "user", c.Username, "from", src)
			tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		} else {
			ask(false)
		}
		return "", false
	}
	s.limits.succeeded(src.String(), c.Username)
	return c.Username, true
}

var errNoContact = errors.New("sip: no usable contact")
