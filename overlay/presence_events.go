package overlay

import "parley/identity"

// The event channel is large (4,096) but a flood of records fills it: the 10,000
// Sybil records of TestHostileRecordFloodNewcomer made each honest node drop
// about 6,000 events (overlay_events_dropped). A dropped RecordChanged is
// repaired by the next record or PeerOnline, which carries it; a dropped
// PeerOnline or PeerOffline was not, and the node showed a peer offline (or
// online) until its state changed again — a newcomer joining during a flood
// could stay invisible. So the peers whose online/offline event was dropped are
// remembered, and their current state is sent again once there is room
// (presence_resent), at the latest with the next graph pass.

// lostPresenceLocked notes a dropped event that said a peer came or went;
// caller holds o.mu. At most one entry per peer, and only for peers held or
// just dropped, so the set is bounded by the record table.
func (o *Overlay) lostPresenceLocked(ev Event) {
	if ev.Kind != PeerOnline && ev.Kind != PeerOffline {
		return
	}
	if o.lost == nil {
		o.lost = map[identity.PeerID]bool{}
	}
	o.lost[ev.Peer] = true
}

// resendPresenceLocked sends, for every peer whose online/offline event was
// dropped, an event for its current state, as far as the channel has room;
// caller holds o.mu. A peer whose state flipped back meanwhile gets an event
// for the state it is in, so the consumer may see the same state twice; it never
// keeps a wrong one.
func (o *Overlay) resendPresenceLocked() {
	for id := range o.lost {
		ev := Event{Kind: PeerOffline, Peer: id, Record: o.records[id]}
		if o.online[id] {
			ev.Kind = PeerOnline
		}
		select {
		case o.events <- ev:
			delete(o.lost, id)
			o.stats.Add("presence_resent", 1)
		default:
			return
		}
	}
}
