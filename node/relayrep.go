package node

import (
	"sync"
	"time"

	"parley/identity"
	"parley/media/call"
)

// Relay asks without a grant feed the relay's reputation (linkquality.Reputation):
// a relay asked for a call's credentials that stays silent for relayAskTimeout — the
// wait media/call's askRelay gives each relay before asking the next — failed this
// node, and Rank's reputation term keeps it off the top for a while. A relay at its
// session cap refuses by silence too: it costs the call the same 2 s.

// relayAskTimeout is media/call askRelay's per-relay wait (handle.go).
const relayAskTimeout = 2 * time.Second

// maxPendingAsks bounds the asks tracked at once: askRelay asks at most three
// relays per leg, one at a time, so a handful of calls never reach it.
const maxPendingAsks = 64

type relayAskKey struct {
	relay identity.PeerID
	call  call.ID
}

type relayAsks struct {
	mu      sync.Mutex
	pending map[relayAskKey]*time.Timer
}

// relayAsked starts the wait for relay's grant for call.
func (n *Node) relayAsked(relay identity.PeerID, id call.ID) {
	a := &n.relayAsks
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = map[relayAskKey]*time.Timer{}
	}
	k := relayAskKey{relay, id}
	if _, ok := a.pending[k]; ok {
		return
	}
	if len(a.pending) >= maxPendingAsks {
		n.stats.Add("relay_ask_untracked", 1)
		return
	}
	a.pending[k] = time.AfterFunc(relayAskTimeout, func() {
		a.mu.Lock()
		_, still := a.pending[k]
		delete(a.pending, k)
		a.mu.Unlock()
		if still {
			n.qual.Failed(relay, "relay_ask")
		}
	})
}

// relayGranted ends the wait: relay granted credentials for call.
func (n *Node) relayGranted(relay identity.PeerID, id call.ID) {
	a := &n.relayAsks
	a.mu.Lock()
	defer a.mu.Unlock()
	k := relayAskKey{relay, id}
	if t, ok := a.pending[k]; ok {
		t.Stop()
		delete(a.pending, k)
	}
}
