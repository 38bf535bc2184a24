package relaysim

import (
	"math"

	"parley/selection"
)

// SessionSample is one relay session (a call, a chat, a transfer between one set
// of endpoints, 5–15 minutes) as the statistics count it: every figure is a mean
// over the session's ticks, so a session weighs the same however long it ran.
// Ticks within a session are strongly correlated (the same endpoints, mostly the
// same choice), so they are not independent samples; sessions nearly are.
type SessionSample struct {
	Ticks int
	// Cost is the mean true cost of each strategy's choice (ms-equivalent), Oracle
	// that of the best candidate each tick.
	Cost   [numStrategies]float64
	Oracle float64
	// R is the mean E-model rating of each strategy's choice and ROracle of the
	// oracle's (voice relay and mixer only; NaN otherwise): the worst endpoint
	// pair through the candidate.
	R       [numStrategies]float64
	ROracle float64
	// Switches counts each strategy's changes of choice during the session.
	Switches [numStrategies]int
}

// Gap is strategy s's cost over the oracle's, minus one.
func (s SessionSample) Gap(st Strategy) float64 { return s.Cost[st]/s.Oracle - 1 }

// AbsGap is strategy s's cost minus the oracle's, ms-equivalent.
func (s SessionSample) AbsGap(st Strategy) float64 { return s.Cost[st] - s.Oracle }

// VsRandom is how much cheaper s was than the random choice: 1 − s/random.
func (s SessionSample) VsRandom(st Strategy) float64 { return 1 - s.Cost[st]/s.Cost[Random] }

// OracleVsRandom is the same for the oracle: how much better any strategy could do.
func (s SessionSample) OracleVsRandom() float64 { return 1 - s.Oracle/s.Cost[Random] }

// RLoss is how many R points s's choice lost against the oracle's (negative if it
// rated better: the oracle minimises cost, not R).
func (s SessionSample) RLoss(st Strategy) float64 { return s.ROracle - s.R[st] }

// forget drops key from every strategy's Chooser.
func (ev *evaluator) forget(key string) {
	for _, c := range append(ev.ch[:], ev.hold[:]...) {
		if c != nil {
			c.Forget(key)
		}
	}
}

// addTick adds one tick of d's session: the true cost of each strategy's pick.
func (ev *evaluator) addTick(d *decision, picks [numStrategies]string, oracle float64, best *node) {
	w, cur := ev.w, &d.cur
	voice := d.purpose == selection.VoiceRelay || d.purpose == selection.CallMixer
	if cur.Ticks == 0 && !voice {
		cur.ROracle = math.NaN()
		for i := range cur.R {
			cur.R[i] = math.NaN()
		}
	}
	cur.Ticks++
	cur.Oracle += oracle
	for s, id := range picks {
		cur.Cost[s] += ev.costOf(id)
	}
	if !voice {
		return
	}
	cur.ROracle += w.voiceR(best, d.ends)
	for s, id := range picks {
		cur.R[s] += w.voiceR(ev.byID[id], d.ends)
	}
}

// flush closes d's session: its sums become means and join the purpose's samples.
func (ev *evaluator) flush(d *decision) {
	cur := d.cur
	d.cur = SessionSample{}
	if cur.Ticks == 0 {
		return
	}
	n := float64(cur.Ticks)
	cur.Oracle /= n
	cur.ROracle /= n
	for i := range cur.Cost {
		cur.Cost[i] /= n
		cur.R[i] /= n
	}
	a := ev.acc[d.purpose]
	a.sessions = append(a.sessions, cur)
}

// finish closes every session still open at the end of the run.
func (ev *evaluator) finish() {
	for _, d := range ev.decisions {
		ev.flush(d)
	}
}
