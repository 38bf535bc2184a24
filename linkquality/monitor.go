package linkquality

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/sysinfo"
	"parley/overlay"
	"parley/selection"
	"parley/vivaldi"
)

// Overlay is what the monitor uses of the overlay (*overlay.Overlay has it all):
// the links and their counters, the capacity probe, and the peers' records.
type Overlay interface {
	// Links lists the direct links with their measured quality.
	Links() []overlay.LinkInfo
	// ProbeCapacity sends one bounded burst (overlay.ProbeBytes) to peer and
	// returns the rate it got through at.
	ProbeCapacity(ctx context.Context, peer identity.PeerID) (float64, error)
	// RecordOf is the peer's record held, or nil.
	RecordOf(peer identity.PeerID) *overlay.Record
	// Records are all records held.
	Records() []*overlay.Record
	// Online reports whether the peer is reachable now.
	Online(peer identity.PeerID) bool
	// AdvertisedAddrs are this node's own link addresses.
	AdvertisedAddrs() []netip.AddrPort
	// SendTo queues an application frame for a peer, routed when there is no
	// direct link (far pings, farping.go).
	SendTo(dst identity.PeerID, typ uint8, payload []byte) (direct bool, err error)
}

// The real ones satisfy the interfaces (checked when this package builds).
var (
	_ Overlay = (*overlay.Overlay)(nil)
	_ Machine = OS{}
)

// Config configures a Monitor. Overlay and Republish are required.
type Config struct {
	// Self is this node's peer ID (its own entry in Graph).
	Self    identity.PeerID
	Overlay Overlay
	// Machine reads power, link media and CPU counters; nil = the real machine
	// (OS). Tests inject a fake.
	Machine Machine
	// Power overrides the power source (--power); PowerUnknown = ask Machine.
	Power sysinfo.Power
	// CellSalt salts the published hash of the Wi-Fi access point's BSSID
	// (cell.go): a closed team's own secret, nil in an open network.
	CellSalt []byte
	// Load is what this node forwards for others now (overlay frames and TURN
	// calls); nil = nothing. It is called once per measurement, and the overlay's
	// counter rolls on each call.
	Load func() overlay.RelayLoad
	// Republish puts Extension into the own record; called when the publisher
	// says the figures changed materially.
	Republish func() error
	// ProbeInterval is how often each link's capacity is probed (0 = 10 min).
	ProbeInterval time.Duration
	// PublishMin is the least time between two publications (0 =
	// selection.DefaultMinInterval); tests shorten it to see changes sooner.
	PublishMin time.Duration
	Now        func() time.Time // nil = time.Now
	Log        *slog.Logger     // nil = slog.Default()
}

// Monitor measures this node's links and machine, keeps its network coordinate,
// publishes the result in the peer record when it changes materially, and holds
// the picture and the Chooser relays are ranked with. Its methods are safe for
// concurrent use.
type Monitor struct {
	cfg Config

	mu      sync.Mutex
	coord   vivaldi.Coord
	filters map[identity.PeerID]*vivaldi.Filter
	// est smooths each link's figures over minutes for publishing: a single Wi-Fi
	// spike must not make the node republish its record to everyone.
	est      map[identity.PeerID]*selection.LinkEstimator
	lossSeen map[identity.PeerID]lossReading // the link's counters when its loss was last folded in
	upBps    map[identity.PeerID]float64     // our probes of each link
	downBps  map[identity.PeerID]float64     // peers' probes of us, as we received them
	probedAt map[identity.PeerID]time.Time
	cpu      cpuLoad
	media    linkMedium
	// self smooths the spare bandwidth and CPU load this node publishes, one
	// reading per selfReadEvery (selfread.go); selfCPU is the CPU load between
	// two of those readings, selfAt when the last was folded in.
	self    selection.SelfEstimator
	selfCPU cpuLoad
	selfAt  time.Time
	// publisher is guarded by mu (a Publisher is not safe for concurrent use).
	publisher *selection.Publisher
	// publishMin is the publisher's MinInterval in a small overlay (publishGap).
	publishMin time.Duration
	// current is the latest measurement, every link (this node's own rankings use
	// them all); record is what the last published record carries, at most
	// selection.MaxPublishedLinks links.
	current selection.SelfMetrics
	record  selection.SelfMetrics
	chooser *selection.Chooser
	// far is the far-peer ping in progress (farping.go).
	far farState
	// stats counts far pings sent, answered and dropped.
	stats counters.Set
	// rep is what this node saw peers fail at (reputation.go).
	rep *Reputation
}

// defaultProbeInterval: one 64 KiB burst per link every 10 minutes, about 110 B/s
// per link on average (every new link is probed once, 2 s after it came up).
const defaultProbeInterval = 10 * time.Minute

// New returns a Monitor; Run makes it measure and publish.
func New(cfg Config) *Monitor {
	if cfg.ProbeInterval <= 0 {
		cfg.ProbeInterval = defaultProbeInterval
	}
	if cfg.Machine == nil {
		cfg.Machine = OS{}
	}
	if cfg.Load == nil {
		cfg.Load = func() overlay.RelayLoad { return overlay.RelayLoad{} }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	pub := selection.NewPublisher()
	// The rate limit that bounds the overhead (docs/relay-selection.md has the
	// bytes/s per peer it gives); tests shorten it to see changes sooner.
	if cfg.PublishMin > 0 {
		pub.MinInterval = cfg.PublishMin
	}
	return &Monitor{
		cfg:        cfg,
		publishMin: pub.MinInterval,
		coord:      vivaldi.New(),
		filters:    map[identity.PeerID]*vivaldi.Filter{},
		est:        map[identity.PeerID]*selection.LinkEstimator{},
		lossSeen:   map[identity.PeerID]lossReading{},
		upBps:      map[identity.PeerID]float64{},
		downBps:    map[identity.PeerID]float64{},
		probedAt:   map[identity.PeerID]time.Time{},
		publisher:  pub,
		chooser:    selection.NewChooser(selection.DefaultHysteresis()),
		rep:        NewReputation(),
	}
}

// Stats are the monitor's counters (far pings: sent, answered, dropped).
func (q *Monitor) Stats() map[string]uint64 { return q.stats.Snapshot() }

// Run probes, pings a far peer when due, and publishes once a second until ctx
// ends.
func (q *Monitor) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		q.probeDue(ctx)
		q.farPingTick()
		q.Publish()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
