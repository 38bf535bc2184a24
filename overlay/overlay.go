package overlay

import (
	"context"
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
	// AnyPort makes the listener take a port the OS picks, never DefaultPort:
	// a browser guest's node runs inside its host's process (node/guestnode.go),
	// and must neither take the default port from the host nor collide with it.
	AnyPort bool
	// LinkBuffer is the size of each link's read and write buffers (0: 64 KiB,
	// which lets bulk transfers share syscalls). A guest's node carries one
	// person's traffic and uses less: each link costs both buffers.
	LinkBuffer int
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

	// dialConn, when set, replaces the TCP dial of an outbound link: tests
	// connect overlays over in-memory pipes with it (memnet_test.go), so they can
	// run in a synctest bubble.
	dialConn func(ctx context.Context, ap netip.AddrPort) (net.Conn, error)

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
	lastHeard  time.Time // the latest stamp in heard (heardStampLocked)
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
		ln, err = listenOn(cfg.ListenOn, cfg.AnyPort, cfg.Log.With("component", "overlay"))
	} else {
		ln, err = listen(cfg.Listen, cfg.AnyPort)
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
	o.self.Caps = append(slices.Clone(cfg.Caps), capPull, capPrune)
	o.recomputeCh = make(chan struct{}, 1)
	return o, nil
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
	Peer     identity.PeerID
	Remote   string
	Outbound bool
	Since    time.Time
	Quality  Quality
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
