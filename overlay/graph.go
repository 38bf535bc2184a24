package overlay

import "parley/identity"

// recompute derives who is online from the link-state graph and reports changes.
//
// A peer is online when it is reachable from this node over edges both ends vouch
// for (our own live links, or two records that list each other) and its newest
// record is not a goodbye. Requiring both ends means a crashed peer's last record,
// which still lists its old neighbours, cannot keep it alive once they drop it.
func (o *Overlay) recompute() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.invalidateRoutes()
	self := o.cfg.Identity.ID
	lists := func(a, b identity.PeerID) bool {
		r := o.records[a]
		if r == nil || r.Offline {
			return false
		}
		for _, n := range r.Neighbours {
			if n.ID == b {
				return true
			}
		}
		return false
	}
	reach := map[identity.PeerID]bool{self: true}
	queue := []identity.PeerID{}
	linked := make([]identity.PeerID, 0, len(o.links)+len(o.grace))
	for id := range o.links {
		linked = append(linked, id)
	}
	for id := range o.grace {
		linked = append(linked, id)
	}
	for _, id := range linked {
		if !reach[id] {
			reach[id] = true
			queue = append(queue, id)
		}
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		r := o.records[u]
		if r == nil || r.Offline {
			continue
		}
		for _, n := range r.Neighbours {
			if !reach[n.ID] && lists(n.ID, u) {
				reach[n.ID] = true
				queue = append(queue, n.ID)
			}
		}
	}
	next := map[identity.PeerID]bool{}
	for id := range reach {
		if r := o.records[id]; id != self && r != nil && !r.Offline {
			next[id] = true
		}
	}
	for id := range o.online {
		if !next[id] {
			o.emit(Event{Kind: PeerOffline, Peer: id, Record: o.records[id]})
		}
	}
	for id := range next {
		if !o.online[id] {
			o.emit(Event{Kind: PeerOnline, Peer: id, Record: o.records[id]})
		}
	}
	o.online = next
}

// Online reports whether id is currently reachable.
func (o *Overlay) Online(id identity.PeerID) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.online[id]
}

// OnlinePeers lists the reachable peers.
func (o *Overlay) OnlinePeers() []identity.PeerID {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]identity.PeerID, 0, len(o.online))
	for id := range o.online {
		out = append(out, id)
	}
	return out
}
