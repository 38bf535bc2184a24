package selection

import (
	"math"
	"time"

	"parley/identity"
)

// LinkEstimator turns one link's RTT samples and packet counters into the figures
// published about the link. It keeps two views:
//
//   - fast: RFC 6298 SRTT/RTTVAR (gains 1/8, 1/4), for timers and next-hop routing,
//     which must react within a few samples;
//   - slow: averages over the last few minutes (gain 1/32 once 32 samples are in,
//     1/n before, so early figures are plain means rather than biased towards the
//     first sample) of the RTT, its absolute deviation from that average and the
//     absolute difference of consecutive samples (RFC 3550 jitter); and the loss,
//     averaged over the last lossWindow packets (see AddLoss).
//
// Only the slow view is published. A relay session lives for minutes, so the
// figure that matters is the typical RTT over minutes; a single Wi-Fi power-save
// spike moves SRTT by several ms and would otherwise make the peer republish its
// record to everyone (see MaterialChange) for nothing. The zero value is ready.
type LinkEstimator struct {
	n                  int
	srtt, rttvar, last float64 // fast, ms
	mean, dev, jitter  float64 // slow, ms
	lossPackets        float64 // packets folded into loss so far
	loss               float64 // slow, fraction
}

// slowGain is the slow view's EWMA gain.
const slowGain = 1.0 / 32

// gain is 1/n until it reaches slowGain: a running mean that turns into an EWMA.
func gain(n int) float64 { return math.Max(1/float64(n), slowGain) }

// AddRTT folds in one RTT sample. Non-positive samples are ignored.
func (e *LinkEstimator) AddRTT(rtt time.Duration) {
	if rtt <= 0 {
		return
	}
	r := durMs(rtt)
	e.n++
	if e.n == 1 {
		e.srtt, e.rttvar, e.mean, e.last = r, r/2, r, r
		return
	}
	e.rttvar += (math.Abs(e.srtt-r) - e.rttvar) / 4
	e.srtt += (r - e.srtt) / 8
	g := gain(e.n)
	e.dev += (math.Abs(r-e.mean) - e.dev) * gain(e.n-1)
	e.mean += (r - e.mean) * g
	e.jitter += (math.Abs(r-e.last) - e.jitter) * gain(e.n-1)
	e.last = r
}

// AddLoss folds in the transport's counters over one interval: lost of sent
// packets. Intervals with nothing sent carry no information and are ignored.
//
// Loss is averaged over packets, not intervals: the estimate is an EWMA over
// about the last lossWindow packets (a plain mean before that many), whatever
// time they took. A loss rate is a count, and its precision is the number of
// packets behind it: an idle link (a ping and a pong a second) needs minutes for
// a figure worth comparing, a busy one has it in seconds. Averaging over a fixed
// number of intervals instead left an idle link's published loss so noisy that
// rankings flapped on it (docs/relay-selection.md).
func (e *LinkEstimator) AddLoss(lost, sent int) {
	if sent <= 0 || lost < 0 {
		return
	}
	n := float64(sent)
	e.lossPackets += n
	g := math.Max(n/e.lossPackets, -math.Expm1(n*math.Log1p(-1/lossWindow)))
	e.loss += (clamp01(float64(lost)/n) - e.loss) * g
}

// lossWindow is the number of packets the loss estimate averages over.
const lossWindow = 1000

// Samples is the number of RTT samples folded in.
func (e *LinkEstimator) Samples() int { return e.n }

// LossPackets is how many packets' fate the loss estimate has seen so far (it
// averages over the last lossWindow of them): below that, a loss figure is rough.
func (e *LinkEstimator) LossPackets() float64 { return e.lossPackets }

// RTT is the slow view's mean RTT (what Vivaldi should embed: the typical RTT).
func (e *LinkEstimator) RTT() time.Duration { return msDuration(e.mean) }

// SRTT and RTTVar are the fast RFC 6298 values.
func (e *LinkEstimator) SRTT() time.Duration   { return msDuration(e.srtt) }
func (e *LinkEstimator) RTTVar() time.Duration { return msDuration(e.rttvar) }

// Metric is the slow view, as published for peer.
func (e *LinkEstimator) Metric(peer identity.PeerID) LinkMetric {
	return LinkMetric{Peer: peer, RTT: msDuration(e.mean), RTTVar: msDuration(e.dev),
		Jitter: msDuration(e.jitter), Loss: float32(e.loss)}
}

// Info is the slow view as a Graph link from self to peer (this node's own
// measurements, Graph.Own).
func (e *LinkEstimator) Info(self, peer string) LinkInfo {
	return LinkInfo{A: self, B: peer, RTT: msDuration(e.mean), RTTVar: msDuration(e.dev),
		Jitter: msDuration(e.jitter), Loss: float32(e.loss)}
}

func msDuration(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// SelfEstimator smooths a peer's readings of its own spare bandwidth and CPU load
// before they are published: instantaneous readings swing with every burst of
// traffic, and publishing each swing would flood records (see MaterialChange) while
// telling others nothing a relay session could use. The gain is 1/8 per reading
// (1/n for the first eight), about 40 s at one reading per 5 s.
//
// It is quick to get worse and slow to get better: a reading that is clearly worse
// than the estimate (CPU more than 0.1 above it, spare bandwidth below 70 % of it)
// is folded in with gain 1/2. A peer that just got busy should stop attracting
// relays and mixers within a reading or two, since a session placed on it suffers
// at once; a peer that got idle can wait the 40 s before it is trusted with more.
// In the simulator this cut the ticks where a busy mixer was still chosen (see
// docs/relay-selection.md). The zero value is ready.
type SelfEstimator struct {
	n             int
	up, down, cpu float64
}

const (
	selfGain       = 1.0 / 8
	selfWorseGain  = 1.0 / 2
	selfWorseCPU   = 0.1 // a CPU reading this far above the estimate is a step
	selfWorseSpare = 0.7 // a spare reading below this fraction of the estimate is one
)

// Observe folds in one reading: spare bandwidth in kbit/s and CPU load 0..1.
// Negative or NaN readings count as 0.
func (s *SelfEstimator) Observe(spareUpKbps, spareDownKbps, cpuLoad float64) {
	s.n++
	g := math.Max(1/float64(s.n), selfGain)
	up, down, cpu := math.Max(0, nanZero(spareUpKbps)), math.Max(0, nanZero(spareDownKbps)), clamp01(cpuLoad)
	s.up += (up - s.up) * worseGain(g, up < selfWorseSpare*s.up)
	s.down += (down - s.down) * worseGain(g, down < selfWorseSpare*s.down)
	s.cpu += (cpu - s.cpu) * worseGain(g, cpu > s.cpu+selfWorseCPU)
}

func worseGain(g float64, worse bool) float64 {
	if worse {
		return math.Max(g, selfWorseGain)
	}
	return g
}

// Apply writes the smoothed values into m. A spare bandwidth that rounds to zero
// is published as 1 kbit/s: 0 on the wire means unknown.
func (s *SelfEstimator) Apply(m *SelfMetrics) {
	if s.n == 0 {
		return
	}
	m.SpareUpKbps = uint32(math.Max(1, math.Min(s.up, math.MaxUint32)))
	m.SpareDownKbps = uint32(math.Max(1, math.Min(s.down, math.MaxUint32)))
	m.CPULoad = float32(s.cpu)
}

func nanZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}
