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
	// carrying is the relay each relayed call leg's last stats report named: when
	// the call then moves off a lost relay (call.ReasonRelayMoved), that relay lost
	// the leg's media. At most maxPendingAsks legs; a call's legs are dropped when
	// it ends or moves.
	carrying map[callLegKey]identity.PeerID
}

type callLegKey struct {
	call call.ID
	peer identity.PeerID
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

// noteCallRelay follows call events for the relay reputation: which relay carries a
// leg (call.Stats), and a leg that moved off it (call.ReasonRelayMoved, counted as
// reputation_relay_lost).
func (n *Node) noteCallRelay(ev call.Event) {
	a := &n.relayAsks
	switch e := ev.(type) {
	case call.Stats:
		a.mu.Lock()
		defer a.mu.Unlock()
		k := callLegKey{e.Call, e.Peer}
		if e.Relay.IsZero() {
			delete(a.carrying, k)
			return
		}
		if a.carrying == nil {
			a.carrying = map[callLegKey]identity.PeerID{}
		}
		if _, ok := a.carrying[k]; ok || len(a.carrying) < maxPendingAsks {
			a.carrying[k] = e.Relay
		}
	case call.StateChanged:
		// The moved event names the call's first peer, not the leg's (emitMoved):
		// blame a relay only when it is the one relay the call's legs went through.
		var relay identity.PeerID
		distinct := 0
		a.mu.Lock()
		for k, r := range a.carrying {
			if k.call != e.Call {
				continue
			}
			if r != relay {
				relay, distinct = r, distinct+1
			}
			if e.Reason == call.ReasonRelayMoved || e.State == call.StateEnded {
				delete(a.carrying, k)
			}
		}
		a.mu.Unlock()
		if distinct == 1 && e.Reason == call.ReasonRelayMoved {
			n.qual.Failed(relay, "relay_lost")
		}
	}
}
