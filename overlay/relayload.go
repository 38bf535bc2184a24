package overlay

import (
	"sync"
	"time"

	"parley/identity"
)

// relayLoad tracks what this node forwards for others: how many distinct
// source→destination flows in the last window and at what rate. Peers publish it so
// that relay selection avoids piling sessions onto one busy relay.
type relayLoad struct {
	mu      sync.Mutex
	flows   map[[2]identity.PeerID]time.Time
	bytes   uint64
	since   time.Time
	lastBps float64
	// notLoad marks the routed payload types that are not someone's traffic but
	// the overlay's own measuring and signalling (NotLoad).
	notLoad [256]bool
}

// NotLoad marks routed payload types whose flows a relay does not count as
// sessions it carries (their bytes still count toward its rate): far pings that
// embed the network coordinate, and a call's signalling, whose media the TURN
// relay counts. Counting them made the relay two chosen peers' overlay traffic
// happened to route through publish two sessions, and lose its place to the
// next best (docs/relay-selection.md, live). Call before Start.
func (o *Overlay) NotLoad(types ...uint8) {
	for _, t := range types {
		o.relay.notLoad[t] = true
	}
}

// relayWindow is how long a flow counts as active after its last frame.
const relayWindow = 10 * time.Second

func (r *relayLoad) count(src, dst identity.PeerID, typ uint8, n int, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.flows == nil {
		r.flows = map[[2]identity.PeerID]time.Time{}
		r.since = now
	}
	if !r.notLoad[typ] {
		r.flows[[2]identity.PeerID{src, dst}] = now
	}
	r.bytes += uint64(n)
}

// RelayLoad is the current forwarding load: active flows and bits per second
// (averaged since the previous call, at least over one second).
type RelayLoad struct {
	Sessions int
	Bps      float64
}

// RelayLoad reports and rolls the forwarding counters.
func (o *Overlay) RelayLoad() RelayLoad {
	r := &o.relay
	now := o.cfg.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, at := range r.flows {
		if now.Sub(at) > relayWindow {
			delete(r.flows, k)
		}
	}
	if dt := now.Sub(r.since); dt >= time.Second {
		r.lastBps = float64(r.bytes) * 8 / dt.Seconds()
		r.bytes, r.since = 0, now
	}
	return RelayLoad{Sessions: len(r.flows), Bps: r.lastBps}
}
