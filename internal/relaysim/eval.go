package relaysim

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"parley/selection"
)

// decision is one slot of ongoing need for a relay (or mixer): a sequence of
// sessions (a call, a chat, a transfer) of 5–15 minutes each, every one between
// freshly drawn endpoints, so an hour samples many endpoint sets. A session is live
// while all its endpoints are online; if one leaves, the choice is forgotten and
// made afresh when all are back.
type decision struct {
	purpose selection.Purpose
	slot    int
	session int
	key     string
	ends    []*node // ends[0] asks (From); the rest are To
	until   time.Duration
	active  bool
	random  *node  // the random baseline's pick, kept while it stays online
	lastTop string // Rank's previous top choice, to count flapping without hysteresis
	// probes are the session's own measurements of short-listed legs (KnowShortlist).
	probes map[uint64]*selection.LinkEstimator
	// cur sums the current session's ticks: the unit the statistics count.
	cur SessionSample
}

const (
	minSession = 5 * time.Minute
	maxSession = 15 * time.Minute
)

// evaluator re-ranks every decision each tick and costs each strategy's choice by
// ground truth.
type evaluator struct {
	w         *world
	decisions []*decision
	sel, rtt  *selection.Chooser
	ch        [numStrategies]*selection.Chooser // per strategy (nil for Random)
	// hold are the bulk purpose's Choosers, one per strategy: they keep the first
	// pick of a session while it stays ranked (bulk.go).
	hold  [numStrategies]*selection.Chooser
	acc   map[selection.Purpose]*accum
	costs []float64 // scratch: true cost per node index, NaN if not a candidate
	byID  map[string]*node
	cands []*node // scratch
}

// accum collects one purpose's samples.
type accum struct {
	gaps, rttGaps, vsRandom             []float64
	instant, absGaps, headroom, oracles []float64
	sumChosen, sumRTT                   float64
	switches, forced                    int
	topChanges                          int
	ticks                               int
	sessions                            []SessionSample
}

func (w *world) newEvaluator() *evaluator {
	ev := &evaluator{
		w:     w,
		sel:   selection.NewChooser(w.cfg.Hysteresis),
		rtt:   selection.NewChooser(w.cfg.Hysteresis),
		acc:   map[selection.Purpose]*accum{},
		byID:  map[string]*node{},
		costs: make([]float64, len(w.nodes)),
	}
	for _, n := range w.nodes {
		ev.byID[n.id] = n
	}
	ev.ch[Selection], ev.ch[RTTOnly] = ev.sel, ev.rtt
	ev.ch[Tailscale] = selection.NewChooser(tailscaleHysteresis())
	ev.ch[WiredFirst] = selection.NewChooser(w.cfg.Hysteresis)
	ev.ch[MeasuredOnly] = selection.NewChooser(w.cfg.Hysteresis)
	for s := range ev.hold {
		if Strategy(s) != Random {
			ev.hold[s] = selection.NewChooser(holdHysteresis())
		}
	}
	for _, p := range selection.Purposes() {
		ev.acc[p] = &accum{}
		for i := range w.cfg.Decisions {
			ev.decisions = append(ev.decisions, &decision{purpose: p, slot: i})
		}
	}
	return ev
}

// pickEndpoints draws the endpoints of a decision: two distinct peers for a relay
// (on different segments in the bridged topology, where relaying is unavoidable),
// 3–6 participants for a mixer (spanning both segments there), the requester of
// a bulk transfer (not a bridge there).
func (w *world) pickEndpoints(p selection.Purpose) []*node {
	count := 2
	switch p {
	case selection.CallMixer:
		count = 3 + w.rnd.IntN(4)
	case selection.BulkTransfer:
		count = 1 // the requester; the candidates are sources (bulk.go)
	}
	for {
		perm := w.rnd.Perm(len(w.nodes))[:count]
		ends := make([]*node, count)
		segs := map[int]bool{}
		bridge := false
		for i, k := range perm {
			ends[i] = w.nodes[k]
			bridge = bridge || ends[i].bridge
			for _, a := range ends[i].att {
				segs[a.seg] = true
			}
		}
		if w.cfg.Topology != Bridged || (!bridge && len(segs) == min(count, 2)) {
			return ends
		}
	}
}

// newSession ends d's session and starts the next one with new endpoints.
func (ev *evaluator) newSession(d *decision) {
	w := ev.w
	if d.key != "" {
		ev.forget(d.key)
		ev.flush(d)
	}
	d.session++
	d.key = fmt.Sprintf("%v/%d/%d", d.purpose, d.slot, d.session)
	d.ends = w.pickEndpoints(d.purpose)
	d.until = w.now + minSession + time.Duration(w.rnd.Int64N(int64(maxSession-minSession)))
	d.active, d.random, d.lastTop, d.probes = false, nil, "", nil
}

// tick evaluates every live decision once.
func (ev *evaluator) tick() error {
	w := ev.w
	ev.carry()
	base := w.graph()
	if w.cfg.Knows != 0 {
		base = w.knownGraph(base, ev.byID)
	}
	for _, d := range ev.decisions {
		if w.now >= d.until {
			ev.newSession(d)
		}
		live := true
		for _, e := range d.ends {
			live = live && e.online
		}
		if !live {
			if d.active {
				d.active, d.random, d.lastTop = false, nil, ""
				ev.forget(d.key)
			}
			continue
		}
		d.active = true
		if err := ev.evaluate(d, base); err != nil {
			return err
		}
	}
	return nil
}

// request is d's ranking request. Under WorldLoad the decision's own session sits
// on its current choice and that relay publishes it; like a node (Relays, which
// passes its own call legs), the decision does not count it against the relay.
func (ev *evaluator) request(d *decision) selection.Request {
	req := selection.Request{Purpose: d.purpose, From: d.ends[0].id}
	for _, e := range d.ends[1:] {
		req.To = append(req.To, e.id)
	}
	if ev.w.cfg.World&WorldLoad != 0 {
		if cur, ok := ev.chooser(d.purpose, Selection).Current(d.key); ok {
			req.Own = map[string]int{cur: 1}
		}
	}
	return req
}

func (ev *evaluator) evaluate(d *decision, base *selection.Graph) error {
	w, a := ev.w, ev.acc[d.purpose]
	req := ev.request(d)
	own := w.ownLinks(d.ends[0])
	if w.cfg.Knows != 0 {
		own = w.knownLinks(own, ev.byID)
	}
	g := base.WithOwn(own)
	ranked := selection.Rank(g, req, w.weights(d.purpose), nil)
	if len(ranked) == 0 {
		return nil
	}
	if w.cfg.Knows&KnowShortlist != 0 {
		ranked = w.probeShortlist(base, own, req, ranked, d, ev.byID)
	}
	prev, had := ev.chooser(d.purpose, Selection).Current(d.key)
	choice, switched := ev.chooser(d.purpose, Selection).ChooseAt(w.clock(), d.key, ranked)
	if switched && had {
		a.switches++
		if !slices.ContainsFunc(ranked, func(r selection.Ranked) bool { return r.ID == prev }) {
			a.forced++
		}
	}
	var picks [numStrategies]string
	picks[Selection] = choice.ID
	if switched && had {
		d.cur.Switches[Selection]++
	}
	for _, s := range []Strategy{Tailscale, WiredFirst, MeasuredOnly, RTTOnly} {
		var r []selection.Ranked
		if s == RTTOnly {
			r = rttOnly(ranked, selection.DefaultWeights(d.purpose))
		} else {
			r = rerank(s, ranked, selection.DefaultWeights(d.purpose))
		}
		_, had := ev.chooser(d.purpose, s).Current(d.key)
		c, sw := ev.chooser(d.purpose, s).ChooseAt(w.clock(), d.key, r)
		picks[s] = c.ID
		if sw && had {
			d.cur.Switches[s]++
		}
	}
	rttChoice := selection.Ranked{ID: picks[RTTOnly]}
	top := ranked[0].ID // what Rank alone would pick now: the gap without hysteresis
	if d.lastTop != "" && d.lastTop != top {
		a.topChanges++
	}
	d.lastTop = top

	// Ground truth over the same candidate set Rank uses by default.
	wt := selection.DefaultWeights(d.purpose)
	oracle := math.Inf(1)
	var best *node
	cands := ev.cands[:0]
	for _, c := range w.nodes {
		ev.costs[c.idx] = math.NaN()
		if !c.online || (d.purpose != selection.CallMixer && slices.Contains(d.ends, c)) {
			continue
		}
		cands = append(cands, c)
		cost := w.trueCost(wt, c, d.ends)
		ev.costs[c.idx] = cost
		if cost < oracle {
			oracle, best = cost, c
		}
	}
	ev.cands = cands
	if d.random == nil || !d.random.online {
		if d.random != nil {
			d.cur.Switches[Random]++
		}
		d.random = cands[w.rnd.IntN(len(cands))]
	}
	picks[Random] = d.random.id
	chosen := ev.costOf(choice.ID)
	rttCost := ev.costOf(rttChoice.ID)
	if math.IsNaN(chosen) || math.IsNaN(rttCost) || !(oracle > 0) {
		// Rank only offers online non-endpoints, which are all costed: cannot happen.
		return fmt.Errorf("decision %s: choice %q / %q outside the candidate set", d.key, choice.ID, rttChoice.ID)
	}
	a.gaps = append(a.gaps, chosen/oracle-1)
	a.instant = append(a.instant, ev.costOf(top)/oracle-1)
	a.absGaps = append(a.absGaps, chosen-oracle)
	a.headroom = append(a.headroom, 1-oracle/ev.costs[d.random.idx])
	a.oracles = append(a.oracles, oracle)
	a.rttGaps = append(a.rttGaps, rttCost/oracle-1)
	a.vsRandom = append(a.vsRandom, 1-chosen/ev.costs[d.random.idx])
	a.sumChosen += chosen
	a.sumRTT += rttCost
	a.ticks++
	ev.addTick(d, picks, oracle, best)
	return nil
}

// rttOnly re-ranks a ranking by its RTT terms alone: exactly what Rank with
// RTTOnlyWeights returns (TestRTTOnlyMatchesRank), for half the work.
func rttOnly(ranked []selection.Ranked, w selection.Weights) []selection.Ranked {
	out := make([]selection.Ranked, len(ranked))
	for i, r := range ranked {
		t := r.Terms
		rtt := (t[selection.TermRTTMeasured] + t[selection.TermRTTEstimated] + t[selection.TermRTTUnknown]) / w.RTT
		out[i] = selection.Ranked{ID: r.ID, Cost: rtt}
	}
	// (cost, ID) pairs are unique, so an unstable sort is deterministic.
	slices.SortFunc(out, func(a, b selection.Ranked) int {
		if c := cmpF(a.Cost, b.Cost); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func (ev *evaluator) costOf(id string) float64 {
	if n := ev.byID[id]; n != nil {
		return ev.costs[n.idx]
	}
	return math.NaN()
}

func (a *accum) result(p selection.Purpose, tick time.Duration) PurposeResult {
	r := PurposeResult{
		Purpose: p, Samples: len(a.gaps),
		GapP50: quantile(a.gaps, 0.5), GapP95: quantile(a.gaps, 0.95),
		RTTOnlyGapP50: quantile(a.rttGaps, 0.5), RTTOnlyGapP95: quantile(a.rttGaps, 0.95),
		VsRandom:      quantile(a.vsRandom, 0.5),
		InstantGapP50: quantile(a.instant, 0.5), InstantGapP95: quantile(a.instant, 0.95),
		AbsGapP50: quantile(a.absGaps, 0.5), AbsGapP95: quantile(a.absGaps, 0.95),
		OracleVsRandom: quantile(a.headroom, 0.5), OracleP50: quantile(a.oracles, 0.5),
		Sessions: a.sessions,
	}
	if a.sumRTT > 0 {
		r.VsRTTOnly = 1 - a.sumChosen/a.sumRTT
	}
	if hours := float64(a.ticks) * tick.Hours(); hours > 0 {
		r.SwitchesPerHour = float64(a.switches) / hours
		r.ForcedPerHour = float64(a.forced) / hours
		r.UnhystereticPerHour = float64(a.topChanges) / hours
	}
	return r
}

// quantile is the q-quantile (nearest rank) of v; v is sorted in place. NaN if empty.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	i := int(math.Ceil(q*float64(len(v)))) - 1
	return v[max(0, min(i, len(v)-1))]
}
