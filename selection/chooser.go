package selection

import "sync"

// Default hysteresis (Tailscale's DERP-region rule): switch only for a clear gain.
const (
	DefaultMinGain = 10.0    // ms-equivalent
	DefaultRatio   = 2.0 / 3 // the new cost must be below this fraction of the current
)

// Chooser keeps one choice per decision key (e.g. "voice:<call id>") and changes it
// only for a clear gain, so that noise in the measurements does not make relays flap:
// every switch costs a call a glitch and the old relay a torn-down session.
// It is safe for concurrent use.
type Chooser struct {
	minGain, ratio float64

	mu  sync.Mutex
	cur map[string]string
}

// NewChooser returns a Chooser that switches from the current choice to the best
// only if best.Cost < current.Cost − minGain and best.Cost < ratio × current.Cost.
func NewChooser(minGain, ratio float64) *Chooser {
	return &Chooser{minGain: minGain, ratio: ratio, cur: map[string]string{}}
}

// Choose returns the choice for key given a fresh ranking (ascending cost, as Rank
// returns it), and whether it differs from the previous choice (true for the first
// choice). If the current choice is no longer in ranked (gone, offline, filtered
// out) the best is taken at once. An empty ranking forgets key and returns false
// with a zero Ranked.
func (c *Chooser) Choose(key string, ranked []Ranked) (Ranked, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(ranked) == 0 {
		delete(c.cur, key)
		return Ranked{}, false
	}
	best := ranked[0]
	curID, had := c.cur[key]
	if had && curID != best.ID {
		for _, r := range ranked {
			if r.ID != curID {
				continue
			}
			if best.Cost < r.Cost-c.minGain && best.Cost < c.ratio*r.Cost {
				break // a clear gain: switch
			}
			return r, false
		}
	}
	c.cur[key] = best.ID
	return best, !had || curID != best.ID
}

// Current returns the current choice for key.
func (c *Chooser) Current(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.cur[key]
	return id, ok
}

// Forget drops the choice for key (the call ended).
func (c *Chooser) Forget(key string) {
	c.mu.Lock()
	delete(c.cur, key)
	c.mu.Unlock()
}
