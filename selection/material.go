package selection

import (
	"math"
	"slices"
	"time"

	"parley/identity"
)

// Thresholds of MaterialChange. A record is flooded to every peer, so republishing
// on noise costs N× its size; these are set just below what moves a cost by a few
// ms-equivalent, well under the 10 ms clear-gain threshold of the Chooser.
const (
	materialRTTFrac    = 0.20 // and
	materialRTTMs      = 2.0
	materialVarFrac    = 0.50 // RTT variation and jitter: noisier than the RTT, and
	materialVarMs      = 3.0  // their weights (≤ 2) keep a 3 ms change under 10 ms
	materialLoss       = 0.01 // absolute: one percentage point
	materialSpareFrac  = 0.25
	materialCPULoad    = 0.15 // in ρ/(1−ρ), and
	materialCPUFrac    = 0.25 // relative to it
	materialSessions   = 2
	materialRelayFrac  = 0.25
	materialRelayKbps  = 256
	materialCoordMoved = 5.0 // ms of displacement
)

// MaterialChange reports whether cur differs from the last published old enough to
// be worth republishing: power or link type changed; a link appeared or vanished;
// a link's RTT changed by more than 20 % and 2 ms, its RTT variation or jitter by
// more than 50 % and 3 ms, or its loss by more than one percentage point; spare
// bandwidth in either direction by more than 25 %; relay sessions by 2 or more (or
// to/from none); relay bandwidth by more than 25 % and 256 kbit/s; CPU load's
// ρ/(1−ρ) by more than 0.15 and 25 % (see loadFactor); or the coordinate moved more than 5 ms.
func MaterialChange(old, cur SelfMetrics) bool {
	if old.Power != cur.Power || old.LinkType != cur.LinkType || old.Cell != cur.Cell || len(old.Links) != len(cur.Links) {
		return true
	}
	if relChange(float64(old.SpareUpKbps), float64(cur.SpareUpKbps)) > materialSpareFrac ||
		relChange(float64(old.SpareDownKbps), float64(cur.SpareDownKbps)) > materialSpareFrac {
		return true
	}
	ds := int(cur.RelaySessions) - int(old.RelaySessions)
	if ds >= materialSessions || -ds >= materialSessions || (old.RelaySessions == 0) != (cur.RelaySessions == 0) {
		return true
	}
	dk := math.Abs(float64(cur.RelayKbps) - float64(old.RelayKbps))
	if dk > materialRelayKbps && relChange(float64(old.RelayKbps), float64(cur.RelayKbps)) > materialRelayFrac {
		return true
	}
	lo, lc := loadFactor(old.CPULoad), loadFactor(cur.CPULoad)
	if math.Abs(lc-lo) > materialCPULoad && relChange(lo, lc) > materialCPUFrac {
		return true
	}
	if !(old.Coord.Displacement(cur.Coord) <= materialCoordMoved) { // NaN counts as moved
		return true
	}
	// Links normally keep their order between publications: compare in place, and
	// fall back to matching by peer only if the order changed.
	samePeers := true
	for i := range cur.Links {
		samePeers = samePeers && cur.Links[i].Peer == old.Links[i].Peer
	}
	var prev map[identity.PeerID]LinkMetric
	if !samePeers {
		prev = make(map[identity.PeerID]LinkMetric, len(old.Links))
		for _, l := range old.Links {
			prev[l.Peer] = l
		}
	}
	for i, l := range cur.Links {
		p, ok := old.Links[i], true
		if !samePeers {
			p, ok = prev[l.Peer]
		}
		if !ok || linkChanged(p, l) {
			return true
		}
	}
	return false
}

func linkChanged(p, l LinkMetric) bool {
	return durChange(p.RTT, l.RTT, materialRTTFrac, materialRTTMs) ||
		durChange(p.RTTVar, l.RTTVar, materialVarFrac, materialVarMs) ||
		durChange(p.Jitter, l.Jitter, materialVarFrac, materialVarMs) ||
		math.Abs(float64(l.Loss-p.Loss)) > materialLoss
}

// loadFactor is ρ/(1−ρ) of a CPU load, capped as the cost caps it: what a
// candidate's CPU costs grows with it, not with ρ, so a change from 0.80 to 0.90
// (4 → 9) matters far more than one from 0.10 to 0.20 (0.11 → 0.25). An absolute
// threshold on ρ let a mixer's load settle at 0.84 published while it was 0.90:
// 5.3 against 9, a 75 ms-equivalent error at the mixer's weight.
func loadFactor(cpu float32) float64 {
	rho := math.Min(clamp01(float64(cpu)), maxCPULoad)
	return rho / (1 - rho)
}

// Thresholds of Worsened.
const (
	worseCPULoad  = 1.0 // ρ/(1−ρ) up by more than this (0.5 → 0.67 is +1) and
	worseCPUFrac  = 1.0 // at least doubled
	worseSpare    = 0.5 // spare bandwidth in either direction halved
	worseSessions = 2   // two more relay sessions
)

// Worsened reports whether cur makes this peer a much worse relay or mixer than
// old said: it went on battery, its CPU's ρ/(1−ρ) at least doubled and rose by
// more than 1, its spare bandwidth halved, or it took on two more relay sessions.
// Such a record is worth sending before the rate limit allows (Publisher's
// UrgentInterval): every session that picks the peer meanwhile suffers. An
// improvement never is: a peer that got better can wait its turn. Link figures
// are left out because they are averaged over minutes and never jump.
func Worsened(old, cur SelfMetrics) bool {
	if cur.Power == Battery && old.Power != Battery {
		return true
	}
	lo, lc := loadFactor(old.CPULoad), loadFactor(cur.CPULoad)
	if lc-lo > worseCPULoad && lc >= (1+worseCPUFrac)*lo {
		return true
	}
	if float64(cur.SpareUpKbps) < worseSpare*float64(old.SpareUpKbps) ||
		float64(cur.SpareDownKbps) < worseSpare*float64(old.SpareDownKbps) {
		return true
	}
	return int(cur.RelaySessions)-int(old.RelaySessions) >= worseSessions
}

// relChange is |b−a|/a, with any change from 0 counting as infinite.
func relChange(a, b float64) float64 {
	if a == b {
		return 0
	}
	if a == 0 {
		return math.Inf(1)
	}
	return math.Abs(b-a) / a
}

func durChange(a, b time.Duration, frac, absMs float64) bool {
	am, bm := durMs(a), durMs(b)
	return math.Abs(bm-am) > absMs && relChange(am, bm) > frac
}

// Publisher decides when a peer republishes its metrics: when they changed
// materially since the last publication, but at most once per MinInterval (a burst
// of changes is coalesced into one record carrying the latest figures), and at least
// once per MaxInterval, so small drifts that never cross a threshold do not go stale
// forever. Time is passed in, so tests and the simulator drive it with a virtual
// clock. Not safe for concurrent use.
type Publisher struct {
	MinInterval time.Duration
	MaxInterval time.Duration
	// UrgentInterval is how soon after the last record a Worsened one may follow
	// (0: no sooner than MinInterval).
	UrgentInterval time.Duration

	last   SelfMetrics
	lastAt time.Time
	has    bool
}

// Default publishing intervals.
const (
	DefaultMinInterval = 30 * time.Second
	DefaultMaxInterval = 10 * time.Minute
	// DefaultUrgentInterval: a peer that just became a bad relay says so within
	// 5 s, not after up to 30.
	DefaultUrgentInterval = 5 * time.Second
)

// NewPublisher returns a Publisher with the default intervals.
func NewPublisher() *Publisher {
	return &Publisher{MinInterval: DefaultMinInterval, MaxInterval: DefaultMaxInterval, UrgentInterval: DefaultUrgentInterval}
}

// Offer reports whether cur should be published now; if so it is remembered as the
// last publication. The first offer is always published.
func (p *Publisher) Offer(now time.Time, cur SelfMetrics) bool {
	since := now.Sub(p.lastAt)
	due := !p.has ||
		(p.MaxInterval > 0 && since >= p.MaxInterval) ||
		(since >= p.MinInterval && MaterialChange(p.last, cur)) ||
		(p.UrgentInterval > 0 && since >= p.UrgentInterval && Worsened(p.last, cur))
	if due {
		cur.Links = slices.Clone(cur.Links) // the caller may reuse its slice
		p.last, p.lastAt, p.has = cur, now, true
	}
	return due
}
