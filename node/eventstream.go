package node

import (
	"context"
	"time"

	"parley/identity"
)

// eventStream is one subscriber's bounded event queue. Roster events (a peer up,
// down, or its presence or quality changed) describe state, and state can be sent
// again; messages, calls and files are history and cannot. So roster events may
// fill only half the buffer: past that, the peer is marked stale and its current
// state is sent when there is room again (resyncStreams). A flood of peers
// coming online (an attacker wiring thousands of throwaway identities into the
// graph: thousands of peer_up events in a second or two) then delays roster
// events instead of pushing a message event out of a full buffer, and no peer's
// final state is lost.
//
// While a peer is stale every later roster event of it is withheld too, so the
// skin never sees a newer event overtaken by an older one; gen counts the
// withheld events, so a resync that read the state before a newer change does
// not clear it.
type eventStream struct {
	ch    chan Event
	stale map[string]uint64 // peer ID → roster events withheld
}

// eventBuffer is a subscriber's queue: the app drains it at once; a headless
// client reads a pipe, 1,024 events is seconds of a busy room.
const eventBuffer = 1024

// maxStale bounds the withheld peers per subscriber: the record table's 4,096
// authors plus as many roster peers going offline. Past it a roster event is
// dropped (node_events_dropped), as any event is when the buffer is full.
const maxStale = 8192

// resyncEvery is how soon withheld state follows once the skin has read on.
const resyncEvery = 100 * time.Millisecond

func newEventStream() *eventStream {
	return &eventStream{ch: make(chan Event, eventBuffer), stale: map[string]uint64{}}
}

// rosterPeer names the peer a roster event is about.
func rosterPeer(ev Event) (string, bool) {
	switch e := ev.(type) {
	case PeerUp:
		return e.Peer.ID, true
	case PeerDown:
		return e.Peer.ID, true
	case PresenceChanged:
		return e.Peer.ID, true
	case QualityChanged:
		return e.Peer.ID, true
	}
	return "", false
}

// offer queues ev or withholds it; the caller holds n.subsMu. It reports what
// became of it for the counters.
func (s *eventStream) offer(ev Event) (sent, withheld bool) {
	if id, ok := rosterPeer(ev); ok {
		_, stale := s.stale[id]
		if stale || len(s.ch) >= cap(s.ch)/2 {
			if !stale && len(s.stale) >= maxStale {
				return false, false
			}
			s.stale[id]++
			return false, true
		}
	}
	select {
	case s.ch <- ev:
		return true, false
	default:
		return false, false
	}
}

// resyncLoop sends withheld roster state until ctx ends.
func (n *Node) resyncLoop(ctx context.Context) {
	t := time.NewTicker(resyncEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.resyncStreams(n.rosterState)
		}
	}
}

// resyncStreams sends each stale peer's current state (as state tells it) to
// the streams with room for it. The state is read outside subsMu (peerView takes
// other locks); an event withheld meanwhile leaves the peer stale for the next
// round.
func (n *Node) resyncStreams(state func(id string) Event) {
	type due struct {
		s   *eventStream
		id  string
		gen uint64
	}
	var todo []due
	n.subsMu.Lock()
	for _, s := range n.streams {
		room := cap(s.ch)/2 - len(s.ch)
		for id, gen := range s.stale {
			if room <= 0 {
				break
			}
			todo = append(todo, due{s, id, gen})
			room--
		}
	}
	n.subsMu.Unlock()
	if len(todo) == 0 {
		return
	}
	now := map[string]Event{}
	for _, d := range todo {
		if _, ok := now[d.id]; !ok {
			now[d.id] = state(d.id)
		}
	}
	n.subsMu.Lock()
	defer n.subsMu.Unlock()
	for _, d := range todo {
		if d.s.stale[d.id] != d.gen {
			continue
		}
		select {
		case d.s.ch <- now[d.id]:
			delete(d.s.stale, d.id)
			n.stats.Add("node_events_resynced", 1)
		default:
		}
	}
}

// rosterState is the event that brings a skin up to date on one peer.
func (n *Node) rosterState(id string) Event {
	pid, err := identity.ParsePeerID(id)
	if err != nil {
		return PeerDown{Peer: PeerView{ID: id, Presence: "offline"}, Reason: "lost"}
	}
	view := n.peerView(pid)
	if view.Online {
		return PeerUp{Peer: view}
	}
	reason := "lost"
	if rec := n.ov.RecordOf(pid); rec != nil && rec.Offline {
		reason = "goodbye"
	}
	return PeerDown{Peer: view, Reason: reason}
}
