package relaysim

import "math"

// The ITU-T G.107 E-model (06/2015) turns a voice path's delay and loss into a
// transmission rating R (0–100; 93.2 is a perfect narrowband call, a drop of
// about 3 points is where listeners start to notice): R = Ro − Is − Id − Ie,eff + A.
//
//   - Ro − Is = 93.2 with every G.107 default (Table 1: no echo, quiet rooms);
//     A = 0 (no advantage of access: a LAN user expects a good call).
//   - Id, the delay impairment, with the defaults' echo settings is, to within a
//     few tenths of a point below 400 ms, Cole and Rosenbluth's fit (Voice over IP
//     performance monitoring, ACM CCR 31(2), 2001):
//     Id = 0.024·Ta + 0.11·(Ta − 177.3)·H(Ta − 177.3), Ta the one-way delay in ms.
//   - Ie,eff = Ie + (95 − Ie)·Ppl / (Ppl/BurstR + Bpl) (G.107 eq. 7-29), Ppl the
//     packet loss in percent, BurstR = 1 for random loss.
//
// Codec: ITU-T G.113 Appendix I lists no values for Opus. We use Ie = 0 and
// Bpl = 25.1, G.113's figures for G.711 with packet loss concealment (Appendix I
// PLC), as a proxy: Opus at the 24–64 kbit/s a LAN call uses is rated at or above
// G.711 in listening tests, and its concealment is at least as good. A lower Bpl
// (G.729A's 19) would make loss weigh a third more; delay is unaffected.
const (
	emodelR0   = 93.2
	opusIe     = 0.0
	opusBpl    = 25.1
	burstRatio = 1.0
	// fixedMouthToEar is the part of the one-way delay that no relay choice
	// changes: a 20 ms Opus frame, 6.5 ms look-ahead, and about 20 ms of capture
	// and playout buffers. It only places R on the curve (Id is linear below
	// 177 ms); differences between choices do not depend on it.
	fixedMouthToEar = 46.5
	// jitterBufferPerJitter: a jitter buffer holds about twice the jitter (as the
	// voice weights assume, selection.DefaultWeights).
	jitterBufferPerJitter = 2.0
	// HarmlessR is the goal's threshold: a miss under 0.1 R points changes
	// nothing a listener hears.
	HarmlessR = 0.1
)

// RFactor is the E-model rating of a call whose one-way network delay is
// oneWayMs (before the fixed codec and buffer delay) and whose packet loss is the
// fraction loss.
func RFactor(oneWayMs, loss float64) float64 { return rFactor(oneWayMs, loss, burstRatio) }

// rFactor is RFactor with G.107's burst ratio (1: random loss; above 1: bursty).
func rFactor(oneWayMs, loss, burstR float64) float64 {
	ta := oneWayMs + fixedMouthToEar
	id := 0.024 * ta
	if ta > 177.3 {
		id += 0.11 * (ta - 177.3)
	}
	ppl := 100 * math.Max(0, math.Min(loss, 1))
	ieff := opusIe + (95-opusIe)*ppl/(ppl/burstR+opusBpl)
	return emodelR0 - id - ieff
}

// voiceR is the E-model rating of the worst pair of endpoints talking through
// candidate c (a relay has one pair, a mixer n(n−1)/2): the pair's one-way delay
// is half the two legs' RTT plus the jitter buffer, its loss that of both legs.
func (w *world) voiceR(c *node, ends []*node) float64 {
	worst := math.Inf(1)
	for i, a := range ends {
		la := w.relayLeg(c, a)
		for _, b := range ends[i+1:] {
			lb := w.relayLeg(c, b)
			d := (la.mean+lb.mean)/2 + jitterBufferPerJitter*math.Hypot(la.jitter, lb.jitter)
			loss := 1 - (1-la.loss)*(1-lb.loss)
			r := rFactor(d, loss, w.burstRatio(loss))
			worst = math.Min(worst, r)
		}
	}
	return worst
}
