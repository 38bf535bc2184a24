package selection

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Term names one contribution to a candidate's cost.
type Term int

const (
	TermRTTMeasured  Term = iota // RTT of legs measured by a peer
	TermRTTEstimated             // RTT of legs estimated from Vivaldi coordinates
	TermRTTUnknown               // legs with neither: UnknownRTTMs each
	TermUncertainty              // distrust of estimated legs
	TermRTTVar
	TermJitter
	TermLoss
	TermBandwidth
	TermPower
	TermLinkType
	TermLoad
	TermCPU
	TermCostMap    // the administrator's cost map
	TermReputation // failures this node saw the candidate make (PeerInfo.Failures)
	NumTerms
)

var termNames = [NumTerms]string{
	"rtt_measured", "rtt_estimated", "rtt_unknown", "uncertainty", "rttvar", "jitter",
	"loss", "bandwidth", "power", "link", "load", "cpu", "costmap",
	"reputation",
}

func (t Term) String() string {
	if t >= 0 && t < NumTerms {
		return termNames[t]
	}
	return fmt.Sprintf("term(%d)", int(t))
}

// Terms are the per-term contributions to a cost (ms-equivalent): the reasons a
// candidate ranks where it does. They sum to the cost.
type Terms [NumTerms]float64

// Sum is the total cost.
func (t Terms) Sum() float64 {
	var s float64
	for _, v := range t {
		s += v
	}
	return s
}

// Map returns the non-zero terms by name.
func (t Terms) Map() map[string]float64 {
	m := map[string]float64{}
	for i, v := range t {
		if v != 0 {
			m[termNames[i]] = v
		}
	}
	return m
}

// String lists the non-zero terms, largest first: "rtt_measured=12.0 loss=4.5".
func (t Terms) String() string {
	idx := make([]int, 0, NumTerms)
	for i, v := range t {
		if v != 0 {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return -cmpFloat(t[a], t[b]) })
	parts := make([]string, len(idx))
	for k, i := range idx {
		parts[k] = fmt.Sprintf("%s=%.1f", termNames[i], t[i])
	}
	return strings.Join(parts, " ")
}

// Source says where a leg's figures came from.
type Source uint8

const (
	Measured  Source = iota // a published or own link measurement
	Estimated               // Vivaldi coordinates (RTT) and access shares (loss, jitter)
	Unknown                 // nothing: UnknownRTTMs and typical access shares
	Local                   // the candidate is this endpoint itself: a zero leg
)

// Leg is the path between a candidate and one endpoint, in ms.
type Leg struct {
	RTT, RTTVar, Jitter float64
	Loss                float64 // 0..1
	Source              Source
	RelErr              float64 // estimated legs: relative error of the estimate
	MapCost             float64 // administrator's cost for this leg
	// SharedAir: the candidate is on the endpoint's Wi-Fi access point, and the
	// leg carries that air's cost again (sharedAir in rank.go).
	SharedAir bool
}

const (
	// UnknownRTTMs is what a leg with neither a measurement nor coordinates is
	// assumed to cost: worse than any LAN path, so known candidates win, but finite,
	// so an unknown candidate still beats nothing.
	UnknownRTTMs = 50
	// DefaultSpareKbps is assumed for a peer that did not publish its spare bandwidth.
	DefaultSpareKbps = 10_000
	// maxNeedRatio caps need/spare so a saturated peer costs a lot, not infinity.
	maxNeedRatio = 1000
	// maxCPULoad caps ρ in ρ/(1−ρ).
	maxCPULoad = 0.95
	// mathisKbpsMs is MSS·8·C of the Mathis formula (MSS 1448 B, C = 1.22):
	// rate[kbit/s] = mathisKbpsMs / (RTT[ms] · √loss).
	mathisKbpsMs = 1448 * 8 * 1.22
)

// CandidateCost is the cost of candidate cand reaching every endpoint over legs, and
// its breakdown. Rank calls it with legs built from the Graph; the simulator calls it
// with ground truth to cost the oracle's choice the same way.
func CandidateCost(w Weights, cand PeerInfo, legs []Leg) (float64, Terms) {
	var t Terms
	var loss float64
	rate := math.Inf(1) // TCP rate cap over the slowest leg, kbit/s
	remote := 0
	for _, l := range legs {
		if l.Source == Local {
			continue
		}
		remote++
		switch l.Source {
		case Measured:
			t[TermRTTMeasured] += w.RTT * l.RTT
		case Estimated:
			t[TermRTTEstimated] += w.RTT * l.RTT
			t[TermUncertainty] += w.Uncertain * l.RelErr * l.RTT
		default:
			t[TermRTTUnknown] += w.RTT * l.RTT
		}
		t[TermRTTVar] += w.RTTVar * l.RTTVar
		t[TermJitter] += w.Jitter * l.Jitter
		t[TermCostMap] += l.MapCost
		loss += l.Loss
		if w.TCPLimited && l.Loss > 0 && l.RTT > 0 {
			rate = math.Min(rate, mathisKbpsMs/(l.RTT*math.Sqrt(l.Loss)))
		}
	}
	t[TermLoss] = w.LossMs * 100 * loss

	need := w.NeedKbps
	if w.NeedPerLeg {
		need *= float64(max(remote, 1))
	}
	spare := spareKbps(cand)
	t[TermBandwidth] = w.Bandwidth * math.Min(need/spare, maxNeedRatio)
	if w.TCPLimited && rate < spare {
		t[TermLoss] += w.Bandwidth*math.Min(need/math.Max(rate, 1), maxNeedRatio) - t[TermBandwidth]
	}

	t[TermPower] = fixedPenalty(w.Battery, cand.Power == Battery, cand.Power == PowerUnknown)
	t[TermLinkType] = fixedPenalty(w.Wireless, cand.LinkType == Wireless, cand.LinkType == LinkUnknown)
	t[TermLoad] = w.PerSession * float64(cand.RelaySessions)
	if cand.Failures > 0 {
		t[TermReputation] = w.Failure * float64(cand.Failures)
	}
	if rho := math.Min(clamp01(float64(cand.CPULoad)), maxCPULoad); rho > 0 {
		t[TermCPU] = w.CPU * rho / (1 - rho)
	}
	for i, v := range t { // one NaN input must not poison the ordering
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t[i] = 0
		}
	}
	return t.Sum(), t
}

// spareKbps is what the candidate can carry: a relay receives and sends, so the
// smaller direction limits it.
func spareKbps(p PeerInfo) float64 {
	up, down := p.SpareUpKbps, p.SpareDownKbps
	if up == 0 && down == 0 {
		return DefaultSpareKbps
	}
	return math.Max(float64(min(up, down)), 1)
}

func fixedPenalty(w float64, bad, unknown bool) float64 {
	switch {
	case bad:
		return w
	case unknown:
		return w / 2
	}
	return 0
}

// EdgeCost is the additive cost of one link for purpose p, for the overlay's
// shortest-path search: RTT plus the purpose's stability, jitter and loss terms
// (non-negative, so Dijkstra applies).
func EdgeCost(p Purpose, l LinkInfo) float64 { return DefaultWeights(p).EdgeCost(l) }

// EdgeCost is the additive per-link cost under w (see the function EdgeCost).
func (w Weights) EdgeCost(l LinkInfo) float64 {
	s := linkFromInfo(l)
	c := w.RTT*s.rtt + w.RTTVar*s.rttVar + w.Jitter*s.jitter + w.LossMs*100*s.loss
	if math.IsNaN(c) || c < 0 {
		return 0
	}
	return c
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
