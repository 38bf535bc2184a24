package relaysim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"parley/selection"
)

// Config is one simulation run.
type Config struct {
	Topology Topology
	Peers    int
	Seed     uint64
	// Warmup runs measurement and publishing before decisions are evaluated, as a
	// LAN that has been up for a while would have.
	Warmup time.Duration
	// Duration is the evaluated span of virtual time after the warm-up.
	Duration time.Duration
	// Probe is the measurement round: every link is pinged once per round.
	Probe time.Duration
	// Tick is how often every decision is re-evaluated (a multiple of Probe).
	Tick time.Duration
	// Degree is how many overlay links a node opens (it also accepts those others
	// open to it); it measures them all and publishes at most
	// selection.MaxPublishedLinks of them.
	Degree int
	// Decisions per purpose: concurrent sessions that each need a relay/mixer (each
	// slot runs consecutive 5–15 minute sessions between fresh endpoints).
	Decisions int
	// VivaldiEvery is how often the coordinates' error is sampled.
	VivaldiEvery time.Duration
	// Hysteresis is the Chooser's rule, for the selection and the RTT-only baseline.
	Hysteresis selection.Hysteresis
	// Knows replaces parts of the peers' information with ground truth (a
	// diagnostic; zero in the benchmark).
	Knows Knowledge
	// World adds effects the estimation model does not assume; Model switches
	// parts of the model off (both zero in the benchmark's main table).
	World World
	Model Model
}

// DefaultConfig is the benchmark's configuration.
func DefaultConfig(t Topology, peers int, seed uint64) Config {
	return Config{
		Topology: t, Peers: peers, Seed: seed,
		Warmup: 10 * time.Minute, Duration: time.Hour,
		Probe: 5 * time.Second, Tick: 10 * time.Second,
		Degree: 32, Decisions: 30, VivaldiEvery: 10 * time.Minute,
		Hysteresis: selection.DefaultHysteresis(),
	}
}

func (c Config) validate() error {
	switch {
	case c.Topology < 0 || c.Topology >= numTopologies:
		return fmt.Errorf("unknown topology %d", c.Topology)
	case c.Peers < 8:
		return fmt.Errorf("%d peers: need at least 8", c.Peers)
	case c.Probe <= 0 || c.Tick < c.Probe || c.Tick%c.Probe != 0:
		return fmt.Errorf("tick %v must be a positive multiple of probe %v", c.Tick, c.Probe)
	case c.Model > ModelNoCells:
		return fmt.Errorf("unknown model %d", c.Model)
	case c.Duration <= 0 || c.Warmup < 0 || c.Degree < 2 || c.Decisions < 1 || c.VivaldiEvery <= 0:
		return fmt.Errorf("bad durations or counts in %+v", c)
	}
	return nil
}

// Result is what one run measured.
type Result struct {
	Config   Config
	Purposes []PurposeResult // in selection.Purposes() order
	// VivaldiErr is the median relative error of coordinate RTT estimates over all
	// online pairs, sampled every VivaldiEvery; VivaldiErrP95 its 95th percentile.
	VivaldiErr, VivaldiErrP95 float64
	// Bytes per second per online peer: metrics records it publishes (Out), records
	// it receives from everyone else's publishing (In, the flood), and link probes.
	PublishOut, PublishIn, Probe float64
	// PublishesPerHour per online peer, and the mean record extension size.
	PublishesPerHour, MeanRecordBytes float64
}

// PurposeResult compares the choices for one purpose, cost by ground truth.
type PurposeResult struct {
	Purpose selection.Purpose
	Samples int // decision-ticks evaluated
	// Gap is chosen/oracle − 1 over all samples: median and 95th percentile.
	GapP50, GapP95 float64
	// RTTOnlyGap is the same for the RTT-only baseline (with the same hysteresis).
	RTTOnlyGapP50, RTTOnlyGapP95 float64
	// VsRandom is the median of 1 − chosen/random.
	VsRandom float64
	// VsRTTOnly is 1 − Σchosen/ΣRTT-only: the share of the baseline's cost saved.
	VsRTTOnly float64
	// Switches per decision per hour (all, and forced by the choice going offline).
	SwitchesPerHour, ForcedPerHour float64

	// Diagnostics. InstantGap is the gap of Rank's top choice at each tick, without
	// the Chooser: estimation error alone. AbsGap is chosen − oracle in
	// ms-equivalent. OracleVsRandom is the median of 1 − oracle/random: how much
	// better than random any strategy could be. OracleP50 is the median oracle cost.
	// UnhystereticPerHour is how often Rank's top choice changes per decision-hour:
	// the switches there would be without the Chooser.
	InstantGapP50, InstantGapP95 float64
	UnhystereticPerHour          float64
	AbsGapP50, AbsGapP95         float64
	OracleVsRandom, OracleP50    float64

	// Sessions are the per-session samples the statistics across seeds are made
	// of (Aggregate): every strategy's mean cost and, for voice, E-model rating.
	Sessions []SessionSample
}

// epoch anchors the virtual clock; only differences matter.
var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// world is the whole simulation: ground truth, every node's protocol state, and the
// counters. Everything runs on one goroutine from one seeded source, so a Config
// always gives the same Result.
type world struct {
	cfg     Config
	rnd     *rand.Rand
	cells   []cell
	nodes   []*node
	bridges []int
	pairF   []float32       // non-metric factor per ordered pair
	pairN   []float32       // WorldPairs: noise factor per ordered pair
	burst   map[uint64]bool // WorldBursty: each measured link's Gilbert state (bad?)

	now        time.Duration
	g          *selection.Graph
	graphDirty bool

	probeBytes, pubBytes, recvBytes, pubCount int64
	probeRnd                                  *rand.Rand // KnowShortlist's probes draw from it
	onlinePeerSeconds                         float64
	vivaldiErrs                               []float64
	legBuf                                    []selection.Leg // scratch for trueCost

	// truthEpoch counts changes that alter true paths (interference regimes,
	// bridges coming and going); truthCache holds paths of the current epoch.
	truthEpoch, truthCacheEpoch int
	truthCache                  map[uint64]legStat
}

func newRand(cfg Config) *rand.Rand {
	return rand.New(rand.NewPCG(cfg.Seed, uint64(cfg.Topology)<<32|uint64(cfg.Peers)))
}

func cfgDur(step int, cfg Config) time.Duration { return time.Duration(step) * cfg.Probe }

func (w *world) clock() time.Time { return epoch.Add(w.now) }

// Run simulates cfg on a virtual clock: no sleeping, no wall time involved.
func Run(cfg Config) (Result, error) {
	if err := cfg.validate(); err != nil {
		return Result{}, fmt.Errorf("relaysim: %w", err)
	}
	w := &world{cfg: cfg, rnd: newRand(cfg)}
	w.build()
	w.buildWorld()
	w.chooseNeighbours()
	w.initProcesses()
	ev := w.newEvaluator()

	end := cfg.Warmup + cfg.Duration
	perTick := int(cfg.Tick / cfg.Probe)
	nextVivaldi := cfg.Warmup
	for step := 1; w.now < end; step++ {
		w.now = cfgDur(step, cfg)
		measuring := w.now > cfg.Warmup
		w.advance(w.now)
		if err := w.probe(measuring); err != nil {
			return Result{}, fmt.Errorf("relaysim: %v at %v: %w", cfg.Topology, w.now, err)
		}
		if measuring {
			w.onlinePeerSeconds += float64(w.onlineCount()) * cfg.Probe.Seconds()
		}
		if w.now >= cfg.Warmup && step%perTick == 0 {
			if err := ev.tick(); err != nil {
				return Result{}, fmt.Errorf("relaysim: %v at %v: %w", cfg.Topology, w.now, err)
			}
		}
		if w.now >= nextVivaldi {
			w.sampleVivaldi()
			nextVivaldi += cfg.VivaldiEvery
		}
	}
	ev.finish()
	return w.result(ev), nil
}

// sampleVivaldi records the relative error of every online pair's coordinate
// estimate against the true mean RTT.
func (w *world) sampleVivaldi() {
	for i, a := range w.nodes {
		if !a.online {
			continue
		}
		for _, b := range w.nodes[i+1:] {
			if !b.online {
				continue
			}
			t := w.truth(a, b).mean
			if t > 0 {
				d := a.coord.DistanceMs(b.coord)
				w.vivaldiErrs = append(w.vivaldiErrs, abs(d-t)/t)
			}
		}
	}
}

func (w *world) result(ev *evaluator) Result {
	res := Result{Config: w.cfg}
	res.VivaldiErr = quantile(w.vivaldiErrs, 0.5)
	res.VivaldiErrP95 = quantile(w.vivaldiErrs, 0.95)
	if s := w.onlinePeerSeconds; s > 0 {
		res.PublishOut = float64(w.pubBytes) / s
		res.PublishIn = float64(w.recvBytes) / s
		res.Probe = float64(w.probeBytes) / s
		res.PublishesPerHour = float64(w.pubCount) / s * 3600
	}
	if w.pubCount > 0 {
		res.MeanRecordBytes = float64(w.pubBytes)/float64(w.pubCount) - recordOverhead
	}
	for _, p := range selection.Purposes() {
		res.Purposes = append(res.Purposes, ev.acc[p].result(p, w.cfg.Tick))
	}
	return res
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
