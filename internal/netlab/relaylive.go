package netlab

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RelayLevels are the tbf rates of the candidate relays in a relay watch, one relay
// per level ("" = unshaped). Six levels from 128 kbit/s to the bare veth: the voice
// relay's bandwidth term (selection: 20 ms-eq × 256 kbit/s ÷ spare) spans 40 ms-eq at
// the slowest to ~0 unshaped, so every level but the top two is a clear loss.
var RelayLevels = []string{"128kbit", "256kbit", "512kbit", "1mbit", "8mbit", ""}

// RelayWatch runs the live relay-choice watch: node a on one segment, c on another,
// and one relay per RelayLevels entry on both, each relay's links shaped to its
// level. Every node runs with production intervals (probe 10 min, quality 30 s);
// only --power mains is set, so the machine's own power source (unknown in a
// namespace) does not enter the ranking.
type RelayWatch struct {
	Lab *Lab
	Bin string
	Dir string // data directories
	// Settle bounds the wait for every relay's first published spare bandwidth and
	// then for a's choice to be among the best.
	Settle time.Duration
	// Watch is how long the choice is watched after it first landed among the best.
	Watch time.Duration
	// Every is the decision period: one Relays call (one Chooser decision).
	Every time.Duration
	// Reshape, when not zero, is when into the watch the chosen relay and the
	// slowest swap their shaping: the truth changes under the choice, and no test
	// hook tells the nodes (they see it at the next probe, within ProbeInterval).
	Reshape time.Duration
	// Log, when set, is told what happens.
	Log func(format string, args ...any)
}

// RelayWatchResult is what one watch saw.
type RelayWatchResult struct {
	// SpareSeen is the time from start until a's roster held a published spare
	// bandwidth for every relay; Settled until the choice was first among the best.
	SpareSeen, Settled time.Duration
	Decisions          int // during the watch
	InBest             int // decisions whose choice was among the best
	Switches           int // choice changes during the watch
	// FlapsPerHour is Switches per hour of decisions watched.
	FlapsPerHour float64
	// Followed is the time from the reshape until the choice was among the best
	// again (-1: not within the watch; 0: no reshape).
	Followed time.Duration
	// Chosen counts the watch's decisions by the chosen relay's level.
	Chosen map[string]int
	// Published is each level's spare bandwidth (kbit/s, min of up and down) as a
	// saw it last.
	Published map[string]int
}

// truthCost is the voice bandwidth term the shaping makes true for a relay at rate
// (tc syntax): 20 × 256 / kbit/s; unshaped counts as 0.
func truthCost(level string) float64 {
	kbps := levelKbps(level)
	if kbps == 0 {
		return 0
	}
	return 20 * 256 / kbps
}

func levelKbps(level string) float64 {
	switch {
	case level == "":
		return 0
	case strings.HasSuffix(level, "mbit"):
		v, _ := strconv.ParseFloat(strings.TrimSuffix(level, "mbit"), 64)
		return v * 1000
	case strings.HasSuffix(level, "kbit"):
		v, _ := strconv.ParseFloat(strings.TrimSuffix(level, "kbit"), 64)
		return v
	}
	return 0
}

// BestLevels are the levels whose true cost is within 1 ms-eq of the cheapest: the
// Chooser's smaller-gain rule needs more than 1 ms to move, so among these any
// choice is right (here: 8 mbit/s at 0.64 ms-eq and unshaped).
func BestLevels(levels []string) map[string]bool {
	least := math.Inf(1)
	for _, l := range levels {
		least = math.Min(least, truthCost(l))
	}
	best := map[string]bool{}
	for _, l := range levels {
		if truthCost(l) <= least+1 {
			best[l] = true
		}
	}
	return best
}

func levelName(l string) string {
	if l == "" {
		return "none"
	}
	return l
}

// Run builds the lab's hosts, starts the nodes and watches. The caller closes the lab
// (which kills the nodes).
func (w RelayWatch) Run() (RelayWatchResult, error) {
	res := RelayWatchResult{Chosen: map[string]int{}, Published: map[string]int{}}
	logf := w.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	seg1, err := w.Lab.AddSegment("lan1")
	if err != nil {
		return res, err
	}
	seg2, err := w.Lab.AddSegment("lan2")
	if err != nil {
		return res, err
	}
	ha, err := w.Lab.AddHost("a", seg1)
	if err != nil {
		return res, err
	}
	hc, err := w.Lab.AddHost("c", seg2)
	if err != nil {
		return res, err
	}
	hosts := []*Host{ha, hc}
	names := []string{"a", "c"}
	for i, lvl := range RelayLevels {
		h, err := w.Lab.AddHost(fmt.Sprintf("r%d", i+1), seg1, seg2)
		if err != nil {
			return res, err
		}
		for _, s := range []*Segment{seg1, seg2} {
			if err := h.Shape(s, lvl); err != nil {
				return res, err
			}
		}
		hosts, names = append(hosts, h), append(names, h.Name)
	}
	start := time.Now()
	procs := make([]*Proc, len(hosts))
	for i, h := range hosts {
		procs[i], err = h.Start(w.Bin, "--headless", "--data", filepath.Join(w.Dir, names[i]),
			"--name", names[i], "--log-level", "warn", "--power", "mains")
		if err != nil {
			return res, err
		}
	}
	ids := make([]string, len(procs))
	for i, p := range procs {
		ready, err := p.WaitEvent(20*time.Second, func(e Event) bool { return e.Name() == "ready" })
		if err != nil {
			return res, fmt.Errorf("%s not ready: %w", names[i], err)
		}
		ids[i] = ready.Str("id")
	}
	a, cID := procs[0], ids[1]
	level := map[string]string{} // relay id → level
	hostOf := map[string]*Host{}
	for i, lvl := range RelayLevels {
		level[ids[i+2]] = lvl
		hostOf[ids[i+2]] = hosts[i+2]
	}

	// Every relay's spare bandwidth published and heard by a: before that the
	// ranking uses the default spare for all, and a first choice made blind is held
	// by the hysteresis like any other.
	deadline := start.Add(w.Settle)
	for {
		roster, err := a.Roster()
		if err != nil {
			return res, err
		}
		n := 0
		for _, p := range roster {
			if lvl, ok := level[p.ID]; ok && p.Quality != nil && p.Quality.SpareUpKbps > 0 {
				n++
				res.Published[levelName(lvl)] = int(min(p.Quality.SpareUpKbps, p.Quality.SpareDownKbps))
			}
		}
		if n == len(RelayLevels) {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("a heard a published spare bandwidth from %d of %d relays in %v", n, len(RelayLevels), w.Settle)
		}
		time.Sleep(time.Second)
	}
	res.SpareSeen = time.Since(start)
	logf("all relays' spare published after %v: %v", res.SpareSeen.Round(time.Second), res.Published)

	best := BestLevels(RelayLevels)
	var lastCosts map[string]string // the last decision's costs and terms, by level
	decide := func() (string, error) {
		ch, err := a.Relays("voice", cID)
		if err != nil {
			return "", err
		}
		if _, ok := level[ch.Chosen]; !ok {
			return "", fmt.Errorf("chosen %q is not a relay (ranking %+v)", ch.Chosen, ch.Ranking)
		}
		lastCosts = map[string]string{}
		for _, r := range ch.Ranking {
			if lvl, ok := level[r.ID]; ok {
				lastCosts[levelName(lvl)] = fmt.Sprintf("%.1f%v", r.Cost, roundTerms(r.Terms))
			}
		}
		return ch.Chosen, nil
	}
	var chosen string
	for {
		if chosen, err = decide(); err != nil {
			return res, err
		}
		if best[level[chosen]] {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("choice %s (%s) not among the best after %v", chosen, levelName(level[chosen]), w.Settle)
		}
		time.Sleep(w.Every)
	}
	res.Settled = time.Since(start)
	if ch, err := a.Relays("voice", cID); err == nil {
		costs := map[string]float64{}
		for _, r := range ch.Ranking {
			if lvl, ok := level[r.ID]; ok {
				costs[levelName(lvl)] = math.Round(r.Cost*10) / 10
			}
		}
		logf("voice costs by level: %v", costs)
	}
	logf("choice %s among the best after %v", levelName(level[chosen]), res.Settled.Round(time.Second))

	tick := time.NewTicker(w.Every)
	defer tick.Stop()
	watchStart := time.Now()
	var reshaped time.Time
	for time.Since(watchStart) < w.Watch {
		<-tick.C
		if w.Reshape > 0 && reshaped.IsZero() && time.Since(watchStart) >= w.Reshape {
			if err := w.swap(chosen, level, hostOf, seg1, seg2); err != nil {
				return res, err
			}
			reshaped, res.Followed = time.Now(), -1
			logf("reshaped at +%v: %s now %s", time.Since(watchStart).Round(time.Second), chosen, levelName(level[chosen]))
		}
		now, err := decide()
		if err != nil {
			return res, err
		}
		res.Decisions++
		res.Chosen[levelName(level[now])]++
		if best[level[now]] {
			res.InBest++
			if !reshaped.IsZero() && res.Followed < 0 {
				res.Followed = time.Since(reshaped)
				logf("choice among the best again %v after the reshape", res.Followed.Round(time.Second))
			}
		}
		if now != chosen {
			res.Switches++
			logf("switch %s → %s at +%v; costs %v", levelName(level[chosen]), levelName(level[now]), time.Since(watchStart).Round(time.Second), lastCosts)
			chosen = now
		}
	}
	if res.Decisions == 0 {
		return res, errors.New("no decisions watched")
	}
	res.FlapsPerHour = float64(res.Switches) / time.Since(watchStart).Hours()
	roster, err := a.Roster()
	if err == nil {
		for _, p := range roster {
			if lvl, ok := level[p.ID]; ok && p.Quality != nil {
				res.Published[levelName(lvl)] = int(min(p.Quality.SpareUpKbps, p.Quality.SpareDownKbps))
			}
		}
	}
	return res, nil
}

// swap gives relay chosen the slowest level and the relay that had it chosen's.
func (w RelayWatch) swap(chosen string, level map[string]string, hostOf map[string]*Host, segs ...*Segment) error {
	slowest := ""
	for id, l := range level {
		if l == RelayLevels[0] {
			slowest = id
		}
	}
	level[chosen], level[slowest] = level[slowest], level[chosen]
	for _, id := range []string{chosen, slowest} {
		for _, s := range segs {
			if err := hostOf[id].Shape(s, level[id]); err != nil {
				return err
			}
		}
	}
	return nil
}

// roundTerms keeps a cost's non-zero terms to 0.1 ms-eq, for the log.
func roundTerms(t map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range t {
		if r := math.Round(v*10) / 10; r != 0 {
			out[k] = r
		}
	}
	return out
}
