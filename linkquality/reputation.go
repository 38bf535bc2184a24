package linkquality

import (
	"math"
	"sync"
	"time"

	"parley/identity"
)

// Reputation is what this node saw each peer fail at while working for it: a relay
// that did not grant an allocation it was asked for, a call leg through it that lost
// its media, a custodian that did not deliver. Each failure adds 1 to the peer's
// score, which halves every ReputationHalfLife, so a peer that failed once an hour
// ago is nearly forgiven and one failing now weighs in full. Rank adds the score
// times the purpose's Weights.Failure (selection.PeerInfo.Failures).
//
// Only this node's own observations count: a peer's word about a third is not
// taken (it would let one member smear another). Memory is bounded: at most
// maxReputationPeers peers; a new one evicts the least-failed.
type Reputation struct {
	mu    sync.Mutex
	peers map[identity.PeerID]failScore
}

type failScore struct {
	score float64   // as of at
	at    time.Time // last update
}

const (
	// ReputationHalfLife: 10 min, the length of a typical call or relay session
	// (relaysim's sessions are 5–15 min): a relay that failed in this session is
	// avoided for the next, one that failed an hour ago counts 1/64.
	ReputationHalfLife = 10 * time.Minute
	// maxReputationPeers bounds the table: a LAN team is at most a few hundred.
	maxReputationPeers = 256
	// maxFailScore caps one peer's score, so a burst of failures (a relay asked
	// by every leg of a mesh call at once) forgives in a bounded time.
	maxFailScore = 8
	// forgotten: a score below this is dropped from the table.
	forgotten = 0.01
)

// NewReputation returns an empty table.
func NewReputation() *Reputation {
	return &Reputation{peers: map[identity.PeerID]failScore{}}
}

func decayed(s failScore, now time.Time) float64 {
	dt := now.Sub(s.at)
	if dt <= 0 {
		return s.score
	}
	return s.score * math.Exp2(-dt.Seconds()/ReputationHalfLife.Seconds())
}

// Fail records one failure of peer at now. It reports whether another peer was
// evicted to make room.
func (r *Reputation) Fail(peer identity.PeerID, now time.Time) (evicted bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.peers[peer]
	if !ok && len(r.peers) >= maxReputationPeers {
		var worst identity.PeerID
		least := math.Inf(1)
		for id, o := range r.peers {
			if v := decayed(o, now); v < least {
				worst, least = id, v
			}
		}
		delete(r.peers, worst)
		evicted = true
	}
	r.peers[peer] = failScore{score: math.Min(decayed(s, now)+1, maxFailScore), at: now}
	return evicted
}

// Score is peer's decayed failure score at now (0 for a peer never seen failing).
func (r *Reputation) Score(peer identity.PeerID, now time.Time) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.peers[peer]
	if !ok {
		return 0
	}
	v := decayed(s, now)
	if v < forgotten {
		delete(r.peers, peer)
		return 0
	}
	return v
}

// Len is how many peers the table holds.
func (r *Reputation) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.peers)
}

// Failed records that peer failed at something it was asked to do for this node;
// what names it in the counters (reputation_<what>), e.g. "relay_ask".
func (q *Monitor) Failed(peer identity.PeerID, what string) {
	q.stats.Add("reputation_"+what, 1)
	if q.rep.Fail(peer, q.cfg.Now()) {
		q.stats.Add("reputation_evicted", 1)
	}
}

// FailScore is peer's current failure score (what Graph gives Rank).
func (q *Monitor) FailScore(peer identity.PeerID) float64 { return q.rep.Score(peer, q.cfg.Now()) }
