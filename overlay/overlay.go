package overlay

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"parley/identity"
	"parley/internal/bufpool"
	"parley/internal/clockwait"
	"parley/internal/counters"
	"parley/internal/seqno"
	"parley/internal/team"
)

// DefaultPort is the TCP port links listen on unless told otherwise; a fixed default
// keeps addresses cached in other peers' rosters valid across restarts.
const DefaultPort = 48556

// Config sets up an Overlay. Zero durations take the defaults in parentheses.
type Config struct {
	Identity *identity.Identity
	// Listen is host:port for the link listener; "" tries DefaultPort, then any port.
	Listen string
	// LocalAddrs lists this node's IPs, published (with the listen port) in its record.
	LocalAddrs    func() []netip.Addr
	Caps          []string
	PingInterval  time.Duration // (1 s)
	DeadAfter     time.Duration // silence that ends a link (3.5 s)
	PublishMinGap time.Duration // rate limit for own-record updates (250 ms)
	RefreshEvery  time.Duration // own record re-issued at least this often (60 s)
	MaxRecords    int           // bound on records held (4096)
	// OnRTTSample, if set, receives every ping RTT sample (network coordinates).
	OnRTTSample func(peer identity.PeerID, rtt time.Duration)
	// OnProbeSeen, if set, receives the rate at which a peer's capacity probe
	// arrived here (this node's download capacity on that link).
	OnProbeSeen func(peer identity.PeerID, bps float64)
	// EdgeCost, if set, weighs a routing edge u→v from the two records (either may
	// be nil) and the slower direction's RTT; it runs in a graph pass, outside the
	// overlay's lock, and must not call back into the overlay. Nil weighs by RTT alone.
	EdgeCost func(u, v identity.PeerID, ru, rv *Record, rtt time.Duration) time.Duration
	// Refuse, if set, names blocked peers: no link, and their records and
	// routed frames are dropped.
	Refuse func(identity.PeerID) bool
	// Team, if set, closes the overlay to nodes without the team key (see
	// TypeTeamProof and RecordExtTeam).
	Team *team.Key
	Now  func() time.Time
	Log  *slog.Logger

	// Inbound bounds the connections others open to this node (inbound.go).
	Inbound InboundLimits
	// AcceptFrom, if set, says whether a connection from a source address may
	// be accepted at all; others are closed before TLS (link_refused_source).
	// The node allows loopback and the on-link subnets of the interfaces in
	// use, so a global IPv6 address cannot be dialled from the Internet.
	AcceptFrom func(netip.Addr) bool
	// ListenOn, if set while Listen is "", lists the addresses to listen on (the
	// interfaces in use, re-read every 2 s) instead of the wildcard (listen.go).
	// It is first called from Run.
	ListenOn func() []netip.Addr
	// Seq issues the own records' sequence numbers (records.go); nil: from the
	// clock, not persisted.
	Seq SeqSource
}

// EventKind says what changed.
type EventKind int

const (
	LinkUp EventKind = iota + 1
	LinkDown
	PeerOnline    // reachable over the overlay with a live record
	PeerOffline   // goodbye, crash or partition
	RecordChanged // a newer record (presence, name, neighbours…)
)

func (k EventKind) String() string {
	return [...]string{"?", "link_up", "link_down", "peer_online", "peer_offline", "record_changed"}[k]
}

// Event is one overlay change.
type Event struct {
	Kind   EventKind
	Peer   identity.PeerID
	Record *Record
}

// Handler receives application frames (type ≥ FirstAppType) from a direct neighbour.
// It runs on the link's reader goroutine: a slow handler slows only that link.
type Handler func(from identity.PeerID, payload []byte)

// Overlay manages links, records and reachability.
type Overlay struct {
	cfg  Config
	log  *slog.Logger
	ln   net.Listener
	port uint16
	cert tls.Certificate

	mu      sync.Mutex
	links   map[identity.PeerID]*Link
	dialing map[identity.PeerID]bool
	records map[identity.PeerID]*Record
	online  map[identity.PeerID]bool
	// grace holds peers whose link was superseded and whose winning link is still
	// being set up; they count as linked until the deadline, so a simultaneous dial
	// never shows as the peer leaving and coming back.
	grace    map[identity.PeerID]time.Time
	self     Record // template of the own record (fields set by SetProfile)
	selfRec  *Record
	handlers map[uint8]Handler
	stopping bool
	// Routing (route.go): handlers for routed frames, and the cached route tree,
	// stale once routeGen moves past the generation it was built at. routeMu
	// serialises recomputing it.
	routedHandlers map[uint8]RoutedHandler
	routeGen       uint64
	routeTree      *routeTree
	routeMu        sync.Mutex

	relay     relayLoad
	gate      *inboundGate // bounds accepted connections (inbound.go)
	events    chan Event
	publishCh chan struct{}
	stats     counters.Set
	wg        sync.WaitGroup

	// recomputeCh asks recomputeLoop for a reachability pass (records.go).
	recomputeCh chan struct{}
	// wants are records heard of by reference and not yet held (lazy.go); under mu.
	wants map[identity.PeerID]pendingWant
	// lazyPending says some link has references or wants waiting (lazy.go).
	lazyPending atomic.Bool

	// Record table bookkeeping (evict.go), under mu: when each record was
	// accepted, the roster records never evicted, and the last pass's hop counts,
	// loads and eviction order.
	heard      map[identity.PeerID]time.Time
	kept       map[identity.PeerID]bool
	everOnline map[identity.PeerID]bool // authors online at some point of this run
	hops       map[identity.PeerID]int32
	load       map[identity.PeerID]int32
	parentLoad map[identity.PeerID]int32
	victims    []victim
	told       map[identity.PeerID]time.Time // tellAuthor's last reply per author
	lost       map[identity.PeerID]bool      // peers whose online/offline event was dropped
	publishMu  sync.Mutex                    // one own record signed at a time (records.go)
}

// New opens the link listener.
func New(cfg Config) (*Overlay, error) {
	if cfg.PingInterval == 0 {
		cfg.PingInterval = time.Second
	}
	if cfg.DeadAfter == 0 {
		cfg.DeadAfter = 3500 * time.Millisecond
	}
	if cfg.PublishMinGap == 0 {
		cfg.PublishMinGap = 250 * time.Millisecond
	}
	if cfg.RefreshEvery == 0 {
		cfg.RefreshEvery = time.Minute
	}
	if cfg.MaxRecords == 0 {
		cfg.MaxRecords = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.LocalAddrs == nil {
		cfg.LocalAddrs = func() []netip.Addr { return nil }
	}
	cert, err := cfg.Identity.TLSCertificate()
	if err != nil {
		return nil, err
	}
	var ln net.Listener
	if cfg.Listen == "" && cfg.ListenOn != nil {
		ln, err = listenOn(cfg.ListenOn, cfg.Log.With("component", "overlay"))
	} else {
		ln, err = listen(cfg.Listen)
	}
	if err != nil {
		return nil, err
	}
	o := &Overlay{
		cfg: cfg, log: cfg.Log.With("component", "overlay"), ln: ln, cert: cert,
		port:      uint16(ln.Addr().(*net.TCPAddr).Port),
		links:     map[identity.PeerID]*Link{},
		dialing:   map[identity.PeerID]bool{},
		records:   map[identity.PeerID]*Record{},
		online:    map[identity.PeerID]bool{},
		grace:     map[identity.PeerID]time.Time{},
		handlers:  map[uint8]Handler{},
		events:    make(chan Event, 4096),
		publishCh: make(chan struct{}, 1),
		wants:     map[identity.PeerID]pendingWant{},
		gate:      newInboundGate(cfg.Inbound),
	}
	o.heard, o.kept, o.everOnline = map[identity.PeerID]time.Time{}, map[identity.PeerID]bool{}, map[identity.PeerID]bool{}
	if o.cfg.Seq == nil {
		o.cfg.Seq = seqno.New(cfg.Now, 0, nil)
	}
	o.self.Caps = append(slices.Clone(cfg.Caps), capPull)
	o.recomputeCh = make(chan struct{}, 1)
	return o, nil
}

func listen(addr string) (net.Listener, error) {
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("link listener on %s: %w", addr, err)
		}
		return ln, nil
	}
	if ln, err := net.Listen("tcp", fmt.Sprintf(":%d", DefaultPort)); err == nil {
		return ln, nil
	}
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		return nil, fmt.Errorf("link listener: %w", err)
	}
	return ln, nil
}

// Port is the TCP port links are accepted on.
func (o *Overlay) Port() uint16 { return o.port }

// Events streams overlay changes. It is large and, if the consumer still falls
// behind, drops and counts (overlay_events_dropped) rather than stall the links.
func (o *Overlay) Events() <-chan Event { return o.events }

// Stats returns the overlay's counters.
func (o *Overlay) Stats() map[string]uint64 {
	out := o.stats.Snapshot()
	o.mu.Lock()
	// A gauge, not a counter: record_accepted also counts updates of records
	// already held, so only this tells whether the MaxRecords cap held.
	out["records_held"] = uint64(len(o.records))
	o.mu.Unlock()
	return out
}

// Handle registers the handler for an application frame type; call before Run.
func (o *Overlay) Handle(typ uint8, h Handler) {
	if typ < FirstAppType {
		panic(fmt.Sprintf("overlay: frame type %d is reserved", typ))
	}
	o.mu.Lock()
	o.handlers[typ] = h
	o.mu.Unlock()
}

func (o *Overlay) emit(ev Event) {
	select {
	case o.events <- ev:
	default:
		o.stats.Add("overlay_events_dropped", 1)
		o.lostPresenceLocked(ev) // caller holds o.mu
	}
}

// Run accepts links and keeps the own record published until ctx ends. Call
// Shutdown first for a clean goodbye.
func (o *Overlay) Run(ctx context.Context) error {
	o.wg.Add(1)
	go func() { defer o.wg.Done(); o.publishLoop(ctx) }()
	o.wg.Add(1)
	go func() { defer o.wg.Done(); o.recomputeLoop(ctx) }()
	o.wg.Add(1)
	go func() { defer o.wg.Done(); o.lazyLoop(ctx) }()
	go func() {
		<-ctx.Done()
		o.ln.Close()
	}()
	if al, ok := o.ln.(*addrListener); ok {
		go al.run()
	}
	for {
		conn, err := o.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				o.closeAll()
				o.wg.Wait()
				return nil
			}
			o.log.Warn("accept", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		// Refused here, in the accept loop, before a goroutine or a byte of TLS:
		// a flood of connections costs an accept and a close each.
		src := sourceOf(conn)
		if o.cfg.AcceptFrom != nil && !o.cfg.AcceptFrom(src) {
			o.stats.Add("link_refused_source", 1)
			conn.Close()
			continue
		}
		if refused := o.gate.admitConn(src); refused != "" {
			o.stats.Add(refused, 1)
			conn.Close()
			continue
		}
		limitUnsent(conn)
		go o.accept(ctx, &gatedConn{Conn: conn, release: func() { o.gate.connClosed(src) }}, src)
	}
}

func (o *Overlay) baseTLS() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{o.cert},
		NextProtos:   []string{"parley/1"},
	}
}

// handshakeTimeout bounds an inbound TLS handshake: a connection that has not
// finished it by then is closed and gives its handshake slot back.
const handshakeTimeout = 5 * time.Second

// accept runs the TLS handshake of a connection the gate admitted (raw holds its
// slot until closed) and makes it a link.
func (o *Overlay) accept(ctx context.Context, raw net.Conn, src netip.Addr) {
	cfg := o.baseTLS()
	cfg.ClientAuth = tls.RequireAnyClientCert
	cfg.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509Cert) error {
		_, _, err := identity.PeerFromCertificates(rawCerts)
		return err
	}
	conn := tls.Server(raw, cfg)
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	err := conn.HandshakeContext(hctx)
	o.gate.handshakeDone(src)
	if err != nil {
		o.stats.Add("link_handshake_failed", 1)
		o.log.Debug("inbound handshake", "remote", raw.RemoteAddr(), "err", err)
		raw.Close()
		return
	}
	id, pub, err := identity.PeerFromCertificates(rawCertsOf(conn))
	if err != nil || id == o.cfg.Identity.ID {
		conn.Close()
		return
	}
	if !o.admit(conn, id, false) {
		return
	}
	o.register(conn, id, pub, false)
}

// ErrWrongKey means the peer at an address did not hold the key of the ID we expected.
var ErrWrongKey = errors.New("peer key does not match the discovered peer ID")

// Dial connects to id at the first address that answers. Addresses are tried in
// parallel with a small stagger (happy eyeballs), because a cached or foreign-segment
// address may hang until its timeout while another answers at once.
func (o *Overlay) Dial(ctx context.Context, id identity.PeerID, addrs []netip.AddrPort) error {
	if id == o.cfg.Identity.ID {
		return errors.New("refusing to dial self")
	}
	if id.IsZero() {
		// dialOne reads a zero ID as "accept any key"; here the link would then be
		// filed under the zero ID whoever answered. DialAddr is the way to do that.
		return errors.New("refusing to dial the zero peer ID")
	}
	o.mu.Lock()
	if o.links[id] != nil || o.dialing[id] || o.stopping {
		o.mu.Unlock()
		return nil
	}
	o.dialing[id] = true
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		delete(o.dialing, id)
		o.mu.Unlock()
	}()
	addrs = slices.Compact(sortAddrs(addrs))
	if len(addrs) == 0 {
		return fmt.Errorf("dial %s: no addresses", id.Short())
	}
	ctx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	type result struct {
		conn *tls.Conn
		pub  ed25519.PublicKey
		err  error
	}
	results := make(chan result, len(addrs))
	for i, ap := range addrs {
		go func() {
			if !clockwait.Sleep(ctx, time.Duration(i)*200*time.Millisecond) {
				results <- result{err: ctx.Err()}
				return
			}
			conn, pub, err := o.dialOne(ctx, id, ap)
			results <- result{conn, pub, err}
		}()
	}
	var errs []error
	var won, refused bool
	for range addrs {
		r := <-results
		switch {
		case r.err != nil:
			errs = append(errs, r.err)
		case won:
			r.conn.Close()
		default:
			won = true
			cancel()
			if o.admit(r.conn, id, true) {
				o.register(r.conn, id, r.pub, true)
			} else {
				refused = true
			}
		}
	}
	if refused {
		return fmt.Errorf("dial %s: link refused (blocked, or no team proof)", id.Short())
	}
	if won {
		return nil
	}
	o.stats.Add("link_dial_failed", 1)
	return fmt.Errorf("dial %s: %w", id.Short(), errors.Join(errs...))
}

func (o *Overlay) dialOne(ctx context.Context, want identity.PeerID, ap netip.AddrPort) (*tls.Conn, ed25519.PublicKey, error) {
	d := net.Dialer{Timeout: 3 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", ap.String())
	if err != nil {
		return nil, nil, err
	}
	cfg := o.baseTLS()
	// Certificates are self-signed identity keys, so chain verification is replaced
	// by the check that matters: the key hashes to the ID we meant to reach.
	cfg.InsecureSkipVerify = true
	cfg.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509Cert) error {
		got, _, err := identity.PeerFromCertificates(rawCerts)
		if err != nil {
			return err
		}
		if !want.IsZero() && got != want {
			o.stats.Add("link_wrong_key", 1)
			return fmt.Errorf("%w: %s presented %s, expected %s", ErrWrongKey, ap, got.Short(), want.Short())
		}
		return nil
	}
	limitUnsent(raw)
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, nil, fmt.Errorf("handshake with %s: %w", ap, err)
	}
	_, pub, _ := identity.PeerFromCertificates(rawCertsOf(conn))
	return conn, pub, nil
}

// DialAddr connects to whoever answers at ap (adding a peer by address, where no ID is
// known yet) and returns the peer's ID, proven by the handshake.
func (o *Overlay) DialAddr(ctx context.Context, ap netip.AddrPort) (identity.PeerID, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, pub, err := o.dialOne(ctx, identity.PeerID{}, ap)
	if err != nil {
		return identity.PeerID{}, fmt.Errorf("add peer %s: %w", ap, err)
	}
	id := identity.IDFromPublicKey(pub)
	if id == o.cfg.Identity.ID {
		conn.Close()
		return id, fmt.Errorf("add peer %s: that address is this node", ap)
	}
	if o.Linked(id) {
		conn.Close()
		return id, nil
	}
	if !o.admit(conn, id, true) {
		return id, fmt.Errorf("link to %s refused (blocked, or no team proof)", id.Short())
	}
	o.register(conn, id, pub, true)
	return id, nil
}

// sortAddrs puts IPv4 first (cheapest to reach on a LAN), then IPv6.
func sortAddrs(addrs []netip.AddrPort) []netip.AddrPort {
	out := slices.Clone(addrs)
	slices.SortStableFunc(out, func(a, b netip.AddrPort) int {
		a4, b4 := a.Addr().Unmap().Is4(), b.Addr().Unmap().Is4()
		switch {
		case a4 && !b4:
			return -1
		case b4 && !a4:
			return 1
		}
		return a.Compare(b)
	})
	return out
}

// simultaneousWindow: two links to one peer opened within this span are a
// simultaneous dial, settled by the ID tie-break; a link older than this is presumed
// stale (the peer restarted) and yields to the new one.
const simultaneousWindow = 2 * time.Second

func (o *Overlay) register(conn net.Conn, id identity.PeerID, pub ed25519.PublicKey, outbound bool) {
	now := o.cfg.Now()
	l := newLink(conn, id, pub, outbound, now)
	l.stats = &o.stats
	if hook := o.cfg.OnRTTSample; hook != nil {
		l.quality.onSample = func(rtt time.Duration) { hook(id, rtt) }
	}
	self := o.cfg.Identity.ID
	o.mu.Lock()
	if o.stopping {
		o.mu.Unlock()
		l.Close()
		return
	}
	old := o.links[id]
	if old != nil {
		lower := min(string(self[:]), string(id[:]))
		newWins := now.Sub(old.Since) > simultaneousWindow ||
			(string(l.dialer(self).Bytes()) == lower && string(old.dialer(self).Bytes()) != lower)
		if !newWins {
			o.mu.Unlock()
			o.stats.Add("link_duplicate_closed", 1)
			supersede(l, false)
			return
		}
		o.stats.Add("link_replaced", 1)
	}
	_, graced := o.grace[id]
	delete(o.grace, id)
	o.links[id] = l
	o.invalidateRoutes()
	if old == nil && !graced {
		o.emit(Event{Kind: LinkUp, Peer: id})
	}
	o.mu.Unlock()
	if old != nil {
		supersede(old, true)
	}
	o.log.Debug("link up", "peer", id.Short(), "remote", l.Remote, "outbound", outbound)
	go l.writeLoop()
	go o.readLoop(l)
	go o.pingLoop(l)
	o.syncTo(l)
	o.requestPublish()
	o.recompute()
}

// supersede closes a connection that lost the duplicate-link tie-break, telling the
// peer why first. running says whether its writer goroutine is already started.
func supersede(l *Link, running bool) {
	frame := AppendFrame(nil, TypeSuperseded, nil)
	if !running {
		l.conn.SetWriteDeadline(time.Now().Add(time.Second))
		l.conn.Write(frame)
		l.Close()
		return
	}
	if l.send(TypeSuperseded, nil) != nil {
		l.Close()
		return
	}
	// The writer closes the link once this frame, and everything queued before
	// it, is out (writeLoop); a peer that does not read gets supersedeFlush.
	time.AfterFunc(supersedeFlush, l.Close)
}

// supersedeFlush bounds how long a superseded link may take to write its last
// frames: they are at most the 4 MiB of one queue (linkQueueBytes), which a LAN
// peer that reads at all takes in well under a second.
const supersedeFlush = time.Second

// supersedeGrace is how long a superseded link's peer stays "linked" while the
// winning connection finishes its handshake.
const supersedeGrace = 2 * time.Second

func (o *Overlay) unregister(l *Link) {
	l.Close()
	o.mu.Lock()
	if o.links[l.Peer] != l {
		o.mu.Unlock()
		return
	}
	delete(o.links, l.Peer)
	o.invalidateRoutes()
	if l.superseded.Load() && !o.stopping {
		o.stats.Add("link_superseded_by_peer", 1)
		o.grace[l.Peer] = o.cfg.Now().Add(supersedeGrace)
		o.mu.Unlock()
		time.AfterFunc(supersedeGrace, func() { o.endGrace(l.Peer) })
		return
	}
	o.emit(Event{Kind: LinkDown, Peer: l.Peer})
	o.mu.Unlock()
	o.log.Debug("link down", "peer", l.Peer.Short())
	o.requestPublish()
	o.recompute()
}

// endGrace reports a superseded link's peer as down if its replacement never came.
func (o *Overlay) endGrace(id identity.PeerID) {
	o.mu.Lock()
	until, ok := o.grace[id]
	if !ok || o.cfg.Now().Before(until) || o.links[id] != nil {
		o.mu.Unlock()
		return
	}
	delete(o.grace, id)
	o.emit(Event{Kind: LinkDown, Peer: id})
	o.mu.Unlock()
	o.stats.Add("link_replacement_missing", 1)
	o.requestPublish()
	o.recompute()
}

func (o *Overlay) readLoop(l *Link) {
	defer o.unregister(l)
	fr := newFrameReader(l.conn)
	for {
		f, err := fr.Next()
		if errors.Is(err, errSkipped) {
			o.stats.Add("frame_skipped", 1)
			l.lastRx.Store(o.cfg.Now().UnixNano())
			continue
		}
		if err != nil {
			return
		}
		l.lastRx.Store(o.cfg.Now().UnixNano())
		l.quality.countRx(frameHeaderLen + len(f.Payload))
		o.dispatch(l, f)
	}
}

func (o *Overlay) dispatch(l *Link, f Frame) {
	switch f.Type {
	case TypePing:
		// Only a ping of the documented 16 bytes is echoed: the echo is queued
		// here and written at the peer's pace, so echoing any size let a peer
		// that reads slowly make us hold 1,024 × 1 MiB per link.
		if len(f.Payload) != pingLen {
			o.stats.Add("ping_drop_size", 1)
			bufpool.Put(f.Payload)
			return
		}
		if err := l.send(TypePong, f.Payload); err != nil {
			o.stats.Add("pong_dropped", 1)
		}
	case TypePong:
		if err := l.quality.onPong(f.Payload, o.cfg.Now()); err != nil {
			o.stats.Add("pong_drop_malformed", 1)
		}
	case TypeRecord:
		o.handleRecord(l, f.Payload)
	case TypeRecordHave:
		o.handleRecordHave(l, f.Payload)
	case TypeRecordWant:
		o.handleRecordWant(l, f.Payload)
	case TypeSuperseded:
		l.superseded.Store(true)
	case TypeRouted:
		o.handleRouted(l, f.Payload)
	case TypeProbe:
		bps, done, err := l.probe.onProbe(l, f.Payload, o.cfg.Now())
		if err != nil {
			o.stats.Add("probe_drop_malformed", 1)
		} else if done && o.cfg.OnProbeSeen != nil {
			o.cfg.OnProbeSeen(l.Peer, bps)
		}
	case TypeProbeReport:
		if err := l.probe.onReport(f.Payload); err != nil {
			o.stats.Add("probe_report_drop_malformed", 1)
		}
	default:
		o.mu.Lock()
		h := o.handlers[f.Type]
		o.mu.Unlock()
		if h == nil {
			o.stats.Add("frame_unknown_type", 1)
			return
		}
		h(l.Peer, f.Payload)
	}
}

// pingLoop measures RTT and ends the link after DeadAfter of silence, which is how a
// peer that vanished without closing (power cut, cable pulled) is noticed.
func (o *Overlay) pingLoop(l *Link) {
	t := time.NewTicker(o.cfg.PingInterval)
	defer t.Stop()
	for {
		l.quality.updateRates(o.cfg.Now())
		if err := l.send(TypePing, l.quality.nextPing(o.cfg.Now())); err != nil && !errors.Is(err, ErrQueueFull) {
			return
		}
		select {
		case <-l.closed:
			return
		case <-t.C:
		}
		if o.cfg.Now().Sub(time.Unix(0, l.lastRx.Load())) > o.cfg.DeadAfter {
			o.stats.Add("link_timeout", 1)
			o.unregister(l)
			return
		}
	}
}

// Send queues an application frame to a direct neighbour.
func (o *Overlay) Send(id identity.PeerID, typ uint8, payload []byte) error {
	o.mu.Lock()
	l := o.links[id]
	o.mu.Unlock()
	if l == nil {
		return ErrNoLink
	}
	return l.send(typ, payload)
}

// LinkInfo describes a direct link.
type LinkInfo struct {
	Peer     identity.PeerID `json:"peer"`
	Remote   string          `json:"remote"`
	Outbound bool            `json:"outbound"`
	Since    time.Time       `json:"since"`
	Quality  Quality         `json:"quality"`
}

// Links lists the current direct links. Each link's quality reads the kernel's
// socket counters (a system call), so they are read after the lock is let go.
func (o *Overlay) Links() []LinkInfo {
	o.mu.Lock()
	links := o.linksExcept(identity.PeerID{})
	o.mu.Unlock()
	out := make([]LinkInfo, 0, len(links))
	for _, l := range links {
		out = append(out, LinkInfo{Peer: l.Peer, Remote: l.Remote.String(), Outbound: l.Outbound, Since: l.Since, Quality: l.Quality()})
	}
	return out
}

// OutboundCount is the number of current direct links this node dialled.
func (o *Overlay) OutboundCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := 0
	for _, l := range o.links {
		if l.Outbound {
			k++
		}
	}
	return k
}

// Linked reports whether a direct link to id exists.
func (o *Overlay) Linked(id identity.PeerID) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.links[id] != nil
}

// Link returns the current link to id, if any.
func (o *Overlay) Link(id identity.PeerID) *Link {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.links[id]
}

func (o *Overlay) closeAll() {
	o.mu.Lock()
	o.stopping = true
	links := make([]*Link, 0, len(o.links))
	for _, l := range o.links {
		links = append(links, l)
	}
	o.mu.Unlock()
	for _, l := range links {
		l.Close()
	}
}
