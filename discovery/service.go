package discovery

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"parley/identity"
	"parley/internal/clockwait"
	"parley/internal/counters"
	"parley/internal/team"
)

// Config sets up a Service. Zero durations take the defaults in parentheses.
type Config struct {
	Identity *identity.Identity
	LinkPort uint16        // TCP port of this node's link listener, announced to others
	Name     func() string // current display name (hint in beacons and TXT)
	Beacons  bool          // run link-multicast beacons
	MDNS     bool          // run DNS-SD over mDNS
	// KeepIface filters interfaces (the --iface flag); nil keeps all.
	KeepIface func(net.Interface) bool
	// Transport replaces the multicast sockets (tests); nil opens real ones.
	Transport  BeaconTransport
	BeaconPort int // (48555)
	// BeaconInterval is the steady-state period (5 s); a burst precedes it.
	BeaconInterval time.Duration
	TTL            time.Duration // neighbour address lifetime without refresh (20 s)
	IfacePoll      time.Duration // how often interfaces are re-read (2 s)
	MaxNeighbours  int           // table bound (4096)
	// Linked, if set, says whether this node holds a live overlay link to a
	// peer: its announces are then dropped before their signature is checked
	// (beaconLinked).
	Linked func(identity.PeerID) bool
	// Team, if set, announces this node as a member of a closed team and
	// ignores everyone who is not (see package team).
	Team *team.Key
	Now  func() time.Time
	Log  *slog.Logger

	// NextSeq, if set, issues the beacons' sequence numbers (the node's stored
	// source, internal/seqno, shared with its records); nil: from the clock.
	NextSeq func() uint64
}

// Event reports a change in the neighbour table.
type Event struct {
	Outcome   Outcome
	Neighbour Neighbour
}

// Service runs the discovery sources and owns the neighbour table.
type Service struct {
	cfg    Config
	table  *Table
	stats  counters.Set
	events chan Event
	log    *slog.Logger

	seq       atomic.Uint64
	leaving   atomic.Bool  // set by Goodbye: no announce may follow it
	lastReply atomic.Int64 // unix ns of the last announce sent in reply to a newcomer
	sendMu    sync.Mutex   // makes the leaving check and the send one step
	transport BeaconTransport
	rescan    chan struct{} // poked on interface change: query mDNS again at once
	mu        sync.Mutex
	ifaces    []net.Interface
	// onLink is the on-link subnets of ifaces (InterfacePrefixes), read per
	// accepted link (OnLink), so kept rather than asked of the kernel each time.
	onLink atomic.Pointer[map[int][]netip.Prefix]
	// running says Run re-reads the interfaces; without it (discovery off)
	// LocalAddrs and OnLink do, at most once per IfacePoll (lastScan, unix ns).
	running  atomic.Bool
	lastScan atomic.Int64
}

// burst is the start-up beacon schedule (offsets from start): several copies early,
// because a neighbour may be starting at the same moment and miss the first.
var burst = []time.Duration{0, 150 * time.Millisecond, 400 * time.Millisecond, time.Second, 2 * time.Second}

// New makes a Service; Run starts it.
func New(cfg Config) *Service {
	if cfg.BeaconPort == 0 {
		cfg.BeaconPort = BeaconPort
	}
	if cfg.BeaconInterval == 0 {
		cfg.BeaconInterval = 5 * time.Second
	}
	if cfg.TTL == 0 {
		cfg.TTL = 20 * time.Second
	}
	if cfg.IfacePoll == 0 {
		cfg.IfacePoll = 2 * time.Second
	}
	if cfg.MaxNeighbours == 0 {
		cfg.MaxNeighbours = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Name == nil {
		cfg.Name = func() string { return "" }
	}
	ifcs := Interfaces(cfg.KeepIface)
	nets := InterfacePrefixes(ifcs)
	s := &Service{
		// Read now so LocalAddrs is right before Run (the ready event needs it).
		ifaces: ifcs,
		cfg:    cfg,
		table:  NewTable(cfg.TTL, cfg.MaxNeighbours, cfg.Now),
		events: make(chan Event, 256),
		log:    cfg.Log.With("component", "discovery"),
		rescan: make(chan struct{}, 1),
	}
	s.onLink.Store(&nets)
	return s
}

// Table is the merged neighbour table.
func (s *Service) Table() *Table { return s.table }

// Stats returns the counters (received, accepted, dropped by reason).
func (s *Service) Stats() map[string]uint64 {
	out := s.stats.Snapshot()
	if n := s.table.Evicted(); n > 0 {
		out["neighbour_addr_evicted"] = n
	}
	return out
}

// Events streams table changes. The channel is bounded: when the consumer lags,
// events are dropped and counted, and the consumer is expected to reconcile from
// Table() periodically.
func (s *Service) Events() <-chan Event { return s.events }

// Run starts all enabled sources and blocks until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	s.running.Store(true)
	defer s.running.Store(false)
	s.refreshInterfaces(true)
	var wg sync.WaitGroup
	if s.cfg.Beacons {
		t := s.cfg.Transport
		if t == nil {
			var err error
			if t, err = NewMulticastTransport(s.cfg.BeaconPort, s.log, &s.stats); err != nil {
				return err
			}
		}
		s.mu.Lock()
		s.transport = t
		ifcs := s.ifaces
		s.mu.Unlock()
		t.SetInterfaces(ifcs)
		wg.Add(2)
		go func() { defer wg.Done(); s.receiveBeacons(t) }()
		go func() { defer wg.Done(); s.sendBeacons(ctx) }()
	}
	if s.cfg.MDNS {
		wg.Add(1)
		go func() { defer wg.Done(); s.runMDNS(ctx) }()
	}
	poll := time.NewTicker(s.cfg.IfacePoll)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			if s.transport != nil {
				s.transport.Close()
			}
			wg.Wait()
			return nil
		case <-poll.C:
			s.refreshInterfaces(false)
			// Addresses outlive four of the neighbours' beacon periods, which
			// grow with the neighbourhood as this node's own do.
			s.table.SetTTL(max(s.cfg.TTL, 4*beaconPeriod(s.cfg.BeaconInterval, s.table.Len())))
			for _, id := range s.table.Expire() {
				s.emit(Event{Outcome: Departed, Neighbour: Neighbour{ID: id}})
			}
		}
	}
}

// refreshInterfaces re-reads the interface list and, when it changed, rejoins the
// beacon groups and asks mDNS to query again at once.
func (s *Service) refreshInterfaces(first bool) {
	ifcs := Interfaces(s.cfg.KeepIface)
	s.mu.Lock()
	changed := first || ifaceKey(ifcs) != ifaceKey(s.ifaces)
	s.ifaces = ifcs
	t := s.transport
	s.mu.Unlock()
	if !changed {
		return
	}
	nets := InterfacePrefixes(ifcs)
	s.onLink.Store(&nets)
	if !first {
		s.log.Info("interfaces changed", "count", len(ifcs))
	}
	if t != nil {
		t.SetInterfaces(ifcs)
		s.sendBeacon(KindAnnounce)
	}
	select {
	case s.rescan <- struct{}{}:
	default:
	}
}

// currentInterfaces returns the interfaces discovery runs on.
func (s *Service) currentInterfaces() []net.Interface {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ifaces
}

// OnLink reports whether src is on an on-link subnet of an interface in use, or
// an IPv6 link-local address (see the package function OnLink). The node's link
// listener accepts only these and loopback.
func (s *Service) OnLink(src netip.Addr) bool {
	s.rescanIfIdle()
	return OnLink(*s.onLink.Load(), 0, src)
}

// rescanIfIdle re-reads the interfaces when Run does not (the node runs without
// discovery but still listens on, and accepts from, the interfaces in use), at
// most once per IfacePoll.
func (s *Service) rescanIfIdle() {
	if s.running.Load() {
		return
	}
	now, last := time.Now().UnixNano(), s.lastScan.Load()
	if now-last < int64(s.cfg.IfacePoll) || !s.lastScan.CompareAndSwap(last, now) {
		return
	}
	s.refreshInterfaces(false)
}

// LocalAddrs are the unicast addresses of the interfaces in use.
func (s *Service) LocalAddrs() []netip.Addr {
	s.rescanIfIdle()
	return InterfaceAddrs(s.currentInterfaces())
}

func (s *Service) emit(ev Event) {
	select {
	case s.events <- ev:
	default:
		s.stats.Add("events_dropped", 1)
	}
}

// nextSeq is strictly increasing, so receivers can reject replays. From the clock
// alone it goes backwards across a restart with the clock set back (the node's
// goodbye then outranks its new announces); Config.NextSeq, stored, does not.
func (s *Service) nextSeq() uint64 {
	if s.cfg.NextSeq != nil {
		return s.cfg.NextSeq()
	}
	now := uint64(s.cfg.Now().UnixMicro())
	for {
		last := s.seq.Load()
		next := max(last+1, now)
		if s.seq.CompareAndSwap(last, next) {
			return next
		}
	}
}

func (s *Service) sendBeacon(kind BeaconKind) {
	s.mu.Lock()
	t := s.transport
	s.mu.Unlock()
	if t == nil {
		return
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if kind == KindAnnounce && s.leaving.Load() {
		// A periodic or interface-change announce after the goodbye would put this
		// node back into every neighbour's table until the TTL ran out.
		return
	}
	pkt := EncodeTeamBeacon(s.cfg.Identity, kind, s.nextSeq(), s.cfg.LinkPort, s.cfg.Name(), s.cfg.Team)
	if err := t.Send(pkt); err != nil {
		s.stats.Add("beacon_send_errors", 1)
		s.log.Debug("beacon send", "err", err)
		return
	}
	s.stats.Add("beacon_sent", 1)
}

// Announce sends a beacon now (e.g. after the display name changed).
func (s *Service) Announce() { s.sendBeacon(KindAnnounce) }

// Goodbye tells the link that this node is leaving; call before cancelling Run.
// It is sent twice because multicast is unreliable and the cost is two packets.
func (s *Service) Goodbye() {
	s.sendMu.Lock() // waits for an announce already past its check; it goes out first, with an older seq
	s.leaving.Store(true)
	s.sendMu.Unlock()
	s.sendBeacon(KindGoodbye)
	s.sendBeacon(KindGoodbye)
}

func (s *Service) sendBeacons(ctx context.Context) {
	start := time.Now()
	for _, at := range burst {
		if !clockwait.Sleep(ctx, time.Until(start.Add(at))) {
			return
		}
		s.sendBeacon(KindAnnounce)
	}
	for {
		// ±10 % jitter keeps nodes that started together from beaconing in lockstep.
		every := beaconPeriod(s.cfg.BeaconInterval, s.table.Len())
		d := every + time.Duration((rand.Float64()*0.2-0.1)*float64(every))
		if !clockwait.Sleep(ctx, d) {
			return
		}
		s.sendBeacon(KindAnnounce)
	}
}

// beaconSpacing is the mean gap between two beacons on a link that the periodic
// beacons of all its nodes together aim for: 4 a second per address family, each
// ~300 bytes on the wire and one signature check at every node. A node hearing
// n neighbours beacons every max(BeaconInterval, n × beaconSpacing): every 5 s
// up to 20 neighbours, as before; every 10 s among 40, 50 s among 200, where
// 5 s beacons were 80 packets and 24 kB a second at every node. Newcomers are
// still found at once: their start-up burst is answered (greetNewcomer), and
// peers linked in the overlay learn of each other from records, not beacons.
// cmd/benchhall re-measures the traffic.
const beaconSpacing = 250 * time.Millisecond

// maxBeaconPeriod bounds the stretch: the table counts every signed beacon's
// sender, and keys cost nothing, so a flood of throwaway beacons must not
// quiet an honest node for long.
const maxBeaconPeriod = time.Minute

// beaconPeriod is the steady beacon period of a node that knows n neighbours.
// Only past the default 5 s, so a test's shorter BeaconInterval holds.
func beaconPeriod(base time.Duration, n int) time.Duration {
	if scaled := min(maxBeaconPeriod, time.Duration(n)*beaconSpacing); scaled > 5*time.Second {
		return max(base, scaled)
	}
	return base
}

func (s *Service) receiveBeacons(t BeaconTransport) {
	buf := make([]byte, MaxBeaconSize+1)
	for {
		n, src, err := t.Recv(buf)
		if err != nil {
			return
		}
		s.HandleBeacon(buf[:n], src)
	}
}

// HandleBeacon decodes, verifies and merges one received datagram.
func (s *Service) HandleBeacon(pkt []byte, src netip.Addr) {
	s.stats.Add("beacon_received", 1)
	if s.cfg.Linked != nil {
		if id, ok := peekAnnouncer(pkt); ok && s.cfg.Linked(id) {
			s.stats.Add("beacon_skipped_linked", 1)
			return
		}
	}
	b, err := DecodeBeacon(pkt)
	if err != nil {
		s.stats.Add(beaconDropReason(err), 1)
		s.log.Debug("beacon dropped", "src", src, "err", err)
		return
	}
	if b.ID == s.cfg.Identity.ID {
		s.stats.Add("beacon_self", 1)
		return
	}
	if b.Port == 0 && b.Kind == KindAnnounce {
		s.stats.Add("beacon_drop_malformed", 1)
		return
	}
	switch {
	case s.cfg.Team != nil && !b.teamOK(s.cfg.Team):
		// An outsider, or another team: it cannot link with us anyway.
		s.stats.Add("beacon_drop_team", 1)
		return
	case s.cfg.Team == nil && b.Team != nil:
		// A closed team we are not in: it exists, and that is all we learn.
		s.stats.Add("beacon_foreign_team", 1)
		return
	}
	s.observe(Sighting{
		ID: b.ID, PubKey: b.PubKey, Addr: netip.AddrPortFrom(src, b.Port), Source: SourceBeacon,
		Name: b.Name, Seq: b.Seq, Goodbye: b.Kind == KindGoodbye,
	})
}

func (s *Service) observe(sg Sighting) {
	out := s.table.Observe(sg)
	prefix := string(sg.Source) + "_"
	switch out {
	case Replayed:
		s.stats.Add(prefix+"drop_replay", 1)
		return
	case Duplicate:
		s.stats.Add(prefix+"duplicate", 1)
		return
	case Full:
		s.stats.Add(prefix+"drop_table_full", 1)
		return
	case Ignored:
		s.stats.Add(prefix+"accepted", 1)
		return
	}
	s.stats.Add(prefix+"accepted", 1)
	if out == Added && sg.Source == SourceBeacon {
		s.greetNewcomer()
	}
	n, _ := s.table.Get(sg.ID)
	if out == Departed {
		n = Neighbour{ID: sg.ID}
	}
	s.emit(Event{Outcome: out, Neighbour: n})
}

// greetNewcomer answers a new peer's beacon with an announce of our own, so a node
// that just started learns about everyone in one round trip instead of waiting for
// their next periodic beacon (and whichever side has the lower ID can dial at once).
// At most one greeting per 250 ms bounds the cost when many peers start together.
func (s *Service) greetNewcomer() {
	now := time.Now().UnixNano()
	last := s.lastReply.Load()
	if now-last < int64(250*time.Millisecond) || !s.lastReply.CompareAndSwap(last, now) {
		return
	}
	go s.sendBeacon(KindAnnounce)
}
