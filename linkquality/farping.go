package linkquality

import (
	crand "crypto/rand"
	"math/rand/v2"
	"slices"
	"time"

	"parley/identity"
	"parley/internal/wire"
	"parley/vivaldi"
)

// Far-peer pings: every vivaldi.FarPingEvery (±50 %) this node pings one random
// online peer it has no link to, vivaldi.FarPings times a second apart, and moves
// its coordinate by the median RTT against that peer's published coordinate. A
// coordinate fed by neighbours alone embeds far peers by triangulation only; the
// simulator the ranking is judged by samples them the same way
// (internal/relaysim/farping.go).
//
// The pings are routed through the overlay (overlay.SendTo), so they measure the
// overlay path: every hop and each relay's forwarding, an upper bound of the
// direct RTT a relay session would see. The simulator measures the same path, so
// its figures describe this node's coordinates (docs/relay-selection.md).
//
// Wire format (frame types in internal/wire/registry.go):
//
//	type 36 far ping  [nonce u64]: any 8 bytes chosen by the pinger
//	type 37 far pong  [nonce u64]: the ping's nonce echoed
//
// Both are exactly 8 bytes; anything else is dropped and counted
// (farping_drop_malformed). A routed frame's source is not authenticated, so a
// pong counts only if it carries the nonce of the one ping outstanding, from the
// peer it went to (else farping_pong_unmatched); and pings are answered at most
// farAnswerRate a second with a burst of farAnswerBurst (else
// farping_answer_dropped), so a peer that floods pings, or names a victim as
// their source, gets at most that many pongs sent anywhere.
const (
	TypeFarPing = wire.FrameFarPing
	TypeFarPong = wire.FrameFarPong

	farPayloadLen = 8
	// farPongTimeout: a pong later than this is lost (counted farping_timeout).
	// A routed frame crosses at most 16 hops of a LAN; seconds mean it queued
	// behind bulk somewhere, which is not the path's RTT anyway.
	farPongTimeout = 3 * time.Second
	// farAnswerRate and farAnswerBurst bound the pongs this node sends. Honest
	// peers send it FarPings/FarPingEvery ≈ 0.1–0.3 pings a second on average
	// (targets are random), a few at once when several pick it together.
	farAnswerRate  = 1.0
	farAnswerBurst = 6.0
)

// farState is the far sample in progress and the answer budget; guarded by q.mu.
type farState struct {
	next   time.Time // when the next sample starts
	target identity.PeerID
	sent   int // pings of this sample sent
	// nonce and sentAt are the ping outstanding (sentAt zero: none).
	nonce  [farPayloadLen]byte
	sentAt time.Time
	rtts   []time.Duration
	// tokens is the answer budget, refilled at farAnswerRate up to
	// farAnswerBurst; tokensAt when it was last refilled.
	tokens   float64
	tokensAt time.Time
	// online is how many peers were online at the last target pick.
	online int
}

// farPingTick advances the far sample, once a second (Run): start one when due,
// send its next ping, or finish it.
func (q *Monitor) farPingTick() {
	now := q.cfg.Now()
	q.mu.Lock()
	f := &q.far
	if f.next.IsZero() {
		f.next = now.Add(q.farPeriod())
	}
	if !f.sentAt.IsZero() && now.Sub(f.sentAt) > farPongTimeout {
		f.sentAt = time.Time{}
		q.stats.Add("farping_timeout", 1)
	}
	if f.target.IsZero() && now.Before(f.next) || !f.sentAt.IsZero() {
		q.mu.Unlock()
		return
	}
	if !f.target.IsZero() && f.sent >= vivaldi.FarPings {
		target := f.target
		q.mu.Unlock()
		// Read outside q.mu, as OnRTT does: the overlay's lock is never taken
		// under the monitor's.
		remote, ok := Published(q.cfg.Overlay.RecordOf(target))
		q.mu.Lock()
		q.finishFar(now, remote.Coord, ok)
		q.mu.Unlock()
		return
	}
	idle := f.target.IsZero()
	q.mu.Unlock()

	if idle && !q.startFar(now) {
		return
	}
	var nonce [farPayloadLen]byte
	_, _ = crand.Read(nonce[:]) // never fails (crypto/rand)
	q.mu.Lock()
	target := f.target
	f.nonce, f.sentAt, f.sent = nonce, now, f.sent+1
	q.mu.Unlock()
	if _, err := q.cfg.Overlay.SendTo(target, TypeFarPing, nonce[:]); err != nil {
		q.mu.Lock()
		f.sentAt = time.Time{}
		q.mu.Unlock()
		q.stats.Add("farping_unsent", 1)
		return
	}
	q.stats.Add("farping_sent", 1)
}

// startFar picks the next sample's target: a random online peer with a usable
// published coordinate that is not a neighbour (neighbours are sampled by every
// ping already). false if there is none.
func (q *Monitor) startFar(now time.Time) bool {
	ov := q.cfg.Overlay
	var linked []identity.PeerID
	for _, l := range ov.Links() {
		linked = append(linked, l.Peer)
	}
	var cands []identity.PeerID
	online := 0
	for _, rec := range ov.Records() {
		id := rec.ID()
		if id == q.cfg.Self || !ov.Online(id) {
			continue
		}
		online++
		if slices.Contains(linked, id) {
			continue
		}
		if m, ok := Published(rec); ok && !m.Coord.IsZero() && m.Coord.Valid() {
			cands = append(cands, id)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.far.online = online
	if len(cands) == 0 {
		q.far.next = now.Add(q.farPeriod())
		return false
	}
	q.far.target, q.far.sent, q.far.rtts = cands[rand.IntN(len(cands))], 0, q.far.rtts[:0]
	return true
}

// finishFar folds the sample's median into the coordinate against the target's
// published one (remote, if ok) and schedules the next sample. The caller holds
// q.mu.
func (q *Monitor) finishFar(now time.Time, remote vivaldi.Coord, ok bool) {
	f := &q.far
	if len(f.rtts) > 0 && ok && !remote.IsZero() && remote.Valid() {
		slices.Sort(f.rtts)
		q.coord.Update(remote, f.rtts[(len(f.rtts)-1)/2])
		q.stats.Add("farping_samples", 1)
	}
	f.target, f.sent, f.rtts = identity.PeerID{}, 0, f.rtts[:0]
	f.next = now.Add(q.farPeriod())
}

// farPeriod is the time to the next sample: FarPingEvery for the peers online,
// spread by ±50 %. The caller holds q.mu.
func (q *Monitor) farPeriod() time.Duration {
	d := vivaldi.FarPingEvery(q.far.online)
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}

// OnFarPing answers a far ping from src (direct or routed), within the answer
// budget.
func (q *Monitor) OnFarPing(src identity.PeerID, payload []byte) {
	if len(payload) != farPayloadLen {
		q.stats.Add("farping_drop_malformed", 1)
		return
	}
	now := q.cfg.Now()
	q.mu.Lock()
	f := &q.far
	if f.tokensAt.IsZero() {
		f.tokens = farAnswerBurst
	} else if dt := now.Sub(f.tokensAt).Seconds(); dt > 0 {
		f.tokens = min(farAnswerBurst, f.tokens+dt*farAnswerRate)
	}
	f.tokensAt = now
	ok := f.tokens >= 1
	if ok {
		f.tokens--
	}
	q.mu.Unlock()
	if !ok {
		q.stats.Add("farping_answer_dropped", 1)
		return
	}
	if _, err := q.cfg.Overlay.SendTo(src, TypeFarPong, payload); err != nil {
		q.stats.Add("farping_answer_unsent", 1)
		return
	}
	q.stats.Add("farping_answered", 1)
}

// OnFarPong takes a far pong from src: the RTT of the outstanding ping if it
// echoes that ping's nonce and comes from its target.
func (q *Monitor) OnFarPong(src identity.PeerID, payload []byte) {
	if len(payload) != farPayloadLen {
		q.stats.Add("farping_drop_malformed", 1)
		return
	}
	now := q.cfg.Now()
	q.mu.Lock()
	f := &q.far
	match := !f.sentAt.IsZero() && src == f.target && [farPayloadLen]byte(payload) == f.nonce
	if match {
		f.rtts = append(f.rtts, now.Sub(f.sentAt))
		f.sentAt = time.Time{}
	}
	q.mu.Unlock()
	if !match {
		q.stats.Add("farping_pong_unmatched", 1)
	}
}
