package selection

import (
	"sync"
	"time"
)

// Hysteresis is the rule a Chooser follows before it leaves its current choice.
// There are two ways out, because two kinds of gain call for different proof:
//
//   - a clear gain (best < current − MinGain and best < Ratio × current) is taken
//     at once: something large changed (a relay got shaped, went to battery, took on
//     load), and every moment on the old choice hurts;
//   - a persistent gain (best < current − SlowMinGain and best < SlowRatio ×
//     current) is taken once every look at the ranking has shown one for at least
//     Hold, and the current choice has been kept for at least Dwell. A modest gain
//     that survives several measurement rounds is real; one that comes and goes is
//     noise. On LAN costs of 1–20 ms no fixed 10 ms threshold can follow the best
//     (it is the whole cost), so this way out is relative, with a small absolute
//     floor below which no purpose would notice the difference.
//
// The dwell bounds how often modest gains can move a decision however the costs
// wander; it does not hold back a clear gain, nor the replacement of a choice that
// is no longer ranked (gone, offline), which is taken at once.
type Hysteresis struct {
	MinGain, Ratio         float64 // clear gain: ms-equivalent, fraction of the current cost
	SlowMinGain, SlowRatio float64 // persistent gain; SlowRatio ≥ 1 turns it off
	Hold                   time.Duration
	Dwell                  time.Duration
}

// Defaults. The clear-gain rule is Tailscale's for DERP regions; the persistent
// one was tuned in the simulator (docs/relay-selection.md, "What I tried").
const (
	DefaultMinGain     = 10.0    // ms-equivalent
	DefaultRatio       = 2.0 / 3 // the new cost must be below this fraction of the current
	DefaultSlowMinGain = 1.0     // ms-equivalent
	DefaultSlowRatio   = 0.8
	DefaultHold        = 30 * time.Second
	DefaultDwell       = 2 * time.Minute
)

// DefaultHysteresis returns the rule every caller in Parley uses.
func DefaultHysteresis() Hysteresis {
	return Hysteresis{
		MinGain: DefaultMinGain, Ratio: DefaultRatio,
		SlowMinGain: DefaultSlowMinGain, SlowRatio: DefaultSlowRatio,
		Hold: DefaultHold, Dwell: DefaultDwell,
	}
}

func (h *Hysteresis) clear(best, cur float64) bool {
	return best < cur-h.MinGain && best < h.Ratio*cur
}

func (h *Hysteresis) modest(best, cur float64) bool {
	return h.SlowRatio < 1 && best < cur-h.SlowMinGain && best < h.SlowRatio*cur
}

// Chooser keeps one choice per decision key (e.g. "voice:<call id>") and changes it
// only as its Hysteresis allows, so that noise in the measurements does not make
// relays flap: every switch costs a call a glitch and the old relay a torn-down
// session. It is safe for concurrent use.
type Chooser struct {
	h Hysteresis

	mu  sync.Mutex
	cur map[string]*choice
}

// choice is one key's state.
type choice struct {
	id    string
	since time.Time // when id was chosen
	// better is when the current choice was first seen beaten by a modest gain
	// without a look in between that said otherwise; zero if it was not.
	better time.Time
}

// NewChooser returns a Chooser following h.
func NewChooser(h Hysteresis) *Chooser {
	return &Chooser{h: h, cur: map[string]*choice{}}
}

// Choose is ChooseAt with the wall clock.
func (c *Chooser) Choose(key string, ranked []Ranked) (Ranked, bool) {
	return c.ChooseAt(time.Now(), key, ranked)
}

// ChooseAt returns the choice for key given a fresh ranking (ascending cost, as Rank
// returns it) seen at now, and whether it differs from the previous choice (true for
// the first choice). Time is passed in so that a simulator on a virtual clock sees
// the same rule as a node; now should not go backwards for a key (if it does, the
// dwell and hold simply last longer). Whether a modest gain lasted is judged only
// from the looks the caller takes, so a caller that looks rarely sees gains as
// lasting between its looks. An empty ranking forgets key and returns false with a
// zero Ranked.
func (c *Chooser) ChooseAt(now time.Time, key string, ranked []Ranked) (Ranked, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(ranked) == 0 {
		delete(c.cur, key)
		return Ranked{}, false
	}
	best := ranked[0]
	st := c.cur[key]
	if st == nil {
		c.cur[key] = &choice{id: best.ID, since: now}
		return best, true
	}
	if st.id == best.ID {
		st.better = time.Time{}
		return best, false
	}
	i := indexOf(ranked, st.id)
	if i < 0 { // gone: no reason to wait
		*st = choice{id: best.ID, since: now}
		return best, true
	}
	cur := ranked[i]
	bestCost := best.Cost + cpuHeld(best, cur)
	switch {
	case c.h.clear(bestCost, cur.Cost):
		*st = choice{id: best.ID, since: now}
		return best, true
	case c.h.modest(bestCost, cur.Cost):
		if st.better.IsZero() {
			st.better = now
		}
		if now.Sub(st.since) >= c.h.Dwell && now.Sub(st.better) >= c.h.Hold {
			*st = choice{id: best.ID, since: now}
			return best, true
		}
	default:
		st.better = time.Time{}
	}
	return cur, false
}

// CPUDeadBand is the share of the larger CPU term within which a challenger's
// lower CPU term does not count as a gain against the current choice. A peer
// republishes its CPU load only when ρ/(1−ρ) moved by more than 25 %
// (MaterialChange), so two peers under the same load can publish figures up to
// 0.75 and 1.25 times the truth, taken at different moments: at worst 0.4 of the
// larger apart, typically much less. A difference inside the band is the
// publication's resolution, not news, and switching a call's relay on it costs a
// glitch for nothing; beyond the band it counts in full. 0.2 is half the worst
// case: in the simulator (held-out seeds 11–20, 50 peers, 30 min) 0.4 cut the voice
// and mixer rows' switches by 6–19 % but lost a p95 row and 4–12 ms-eq of mixer
// p95, where the CPU differences are real; 0.2 cut them by 2–10 % at 1–4 ms-eq and
// no goal row (docs/relay-selection.md). Live, six relays in namespaces of one
// machine read its CPU at different moments and their cpu terms differed by up to
// 24 ms-eq under load (TestChooserCPUDeadBand; benchrelaylive re-measures).
const CPUDeadBand = 0.2

// cpuHeld is what the current choice's CPU disadvantage against best is worth
// less than its face value: the part of it within CPUDeadBand.
func cpuHeld(best, cur Ranked) float64 {
	b, c := best.Terms[TermCPU], cur.Terms[TermCPU]
	if c <= b {
		return 0
	}
	return min(c-b, CPUDeadBand*c)
}

func indexOf(ranked []Ranked, id string) int {
	for i, r := range ranked {
		if r.ID == id {
			return i
		}
	}
	return -1
}

// Current returns the current choice for key.
func (c *Chooser) Current(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.cur[key]; st != nil {
		return st.id, true
	}
	return "", false
}

// Forget drops the choice for key (the call ended).
func (c *Chooser) Forget(key string) {
	c.mu.Lock()
	delete(c.cur, key)
	c.mu.Unlock()
}
