package chat

import (
	"sync"
	"time"

	"parley/identity"
)

// Sealed frames get a budget of their own. A direct neighbour that floods with
// its own frames only stalls its own TCP link (its queue fills and its reader
// blocks), but a sealed frame may be carried for someone else: routed on a relay's
// link, or handed over directly by a neighbour that did not sign it. Blocking
// there would stall every author that link carries and the link's own chat with
// us, so such frames never block: each link has a budget of envelopes to open
// (carrierRate) and each (link, sealed sender) pair a token bucket, both spent
// before the costly seal.Open, and an author whose queue is full loses the frame.
// The drops are counted, and nothing is lost: a message is acknowledged only
// after our commit, so the sender's outbox sends it again.
//
// The pair is (link, sealed sender), the sender named inside the envelope, never
// the routed source (a hint any hop could have written): Open fails unless that
// sender signed the envelope, so anyone who claims to be someone else gets its
// frame dropped, and spends only the budget of the link it came on. Before
// (ca67723) direct sealed frames had no budget, and routed ones were keyed by the
// routed source, so each fresh key or forged source got a fresh budget.
const (
	// routedRate is the sustained routed frames per second one author gets through
	// one relay: far above what people type, below what a flood needs.
	routedRate = 200
	// routedBurst covers honest bursts: an outbox flushed to a returning peer, or a
	// custodian handing over what it held (at most 500 per sender, custody.go).
	routedBurst = 1000
	// maxBuckets bounds the limiter's memory against throwaway identities.
	maxBuckets = 4096

	// carrierRate and carrierBurst are one link's budget of envelopes to open,
	// whoever signed them (its own sealed frames, those it relays and the
	// hand-overs it carries), spent before anything else: opening costs an X25519
	// and an Ed25519 verification (~0.15 ms), so this caps what one link can make
	// us spend at ~15% of a core. The burst covers a custodian handing over a full
	// store for one recipient (custody.go caps a sender at 500, a holder at 2,000).
	carrierRate  = 1000
	carrierBurst = 2000

	// relayedRate and relayedBurst are the whole node's budget of frames whose
	// author is not the link they came on (routed, carried, handed over), spent
	// last, by frames that passed every other check. Per-link budgets alone let
	// many links (or Sybil authors with records) make the node store messages as
	// fast as it can commit, and the honest neighbour's frame then waits behind
	// slow commits. 500 a second is far above what people type; the burst takes
	// a custodian's full store (2,000) twice over. An author's own link is not
	// charged: its flood stalls only itself. TestHostileChatThrowawayKeys
	// re-measures it with 1,000 Sybil authors that have records.
	relayedRate  = 500
	relayedBurst = 4000
)

// relayedKey is the single bucket of relayedRate.
var relayedKey = bucketKey{}

type bucketKey struct{ via, src identity.PeerID }

type bucket struct {
	tokens float64
	last   time.Time
}

// routedLimiter is a set of token buckets, one per (relay, author).
type routedLimiter struct {
	mu          sync.Mutex
	rate, burst float64
	now         func() time.Time
	buckets     map[bucketKey]*bucket
}

func newRoutedLimiter(rate, burst float64, now func() time.Time) *routedLimiter {
	if now == nil {
		now = time.Now
	}
	return &routedLimiter{rate: rate, burst: burst, now: now, buckets: map[bucketKey]*bucket{}}
}

// allow spends one token of k's bucket, reporting false when it is empty.
func (l *routedLimiter) allow(k bucketKey) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[k]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[k] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(l.burst, b.tokens+dt*l.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets buckets that have refilled (a new bucket starts full, so
// forgetting them changes nothing); if every bucket is busy it forgets them all,
// which hands out at most one more burst each, and keeps the memory bounded.
func (l *routedLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets {
		clear(l.buckets)
	}
}
