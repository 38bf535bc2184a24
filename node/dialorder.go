package node

import (
	"cmp"
	"hash/fnv"
	"slices"

	"parley/identity"
	"parley/store"
	"parley/vivaldi"
)

// dialNear is how many of the links a node opens itself go to its nearest peers
// by network coordinate; the rest of maxDialDegree go to peers in an order of the
// node's own. The near links are the ones relays and routes between neighbours
// use, measured directly rather than estimated from coordinates; the others keep
// the overlay a well-mixed graph and give the coordinates far samples. The
// relay-selection simulator models this split (docs/relay-selection.md).
const dialNear = 20

// dialOrder orders the roster for dialling: the dialNear peers nearest to self by
// coordinate first (nearest first; peers without a usable coordinate are not
// near, nor is anyone while self's own coordinate has not been fitted yet: a node
// that just started dials in hash order), then every other peer in an order given
// by a hash of both IDs. Links are not reshaped later: nearer peers are preferred
// whenever the node dials again (a link lost, the network grown).
//
// The roster comes in peer ID order, and dialling it in that order made every
// node of a large network dial the same lowest IDs: those 32 became hubs with a
// link to everyone, and nobody else measured anyone but them. The hash order
// differs from node to node, so the dialled links spread over the network.
func dialOrder(self identity.PeerID, selfCoord vivaldi.Coord, peers []store.Peer, coordOf func(identity.PeerID) (vivaldi.Coord, bool)) []store.Peer {
	type entry struct {
		p    store.Peer
		dist float64 // by coordinate
		rank uint64  // the node's own order
	}
	// A coordinate still at its starting error has never been fitted: its
	// distances say nothing yet.
	usable := func(c vivaldi.Coord) bool { return !c.IsZero() && c.Valid() && c.Error < vivaldi.MaxError }
	var near, far []entry
	for _, p := range peers {
		e := entry{p: p}
		id, err := identity.ParsePeerID(p.ID)
		if err == nil {
			h := fnv.New64a()
			h.Write(self[:])
			h.Write(id[:])
			e.rank = h.Sum64()
			if c, ok := coordOf(id); ok && usable(c) && usable(selfCoord) {
				e.dist = selfCoord.DistanceMs(c)
				near = append(near, e)
				continue
			}
		}
		far = append(far, e)
	}
	slices.SortStableFunc(near, func(a, b entry) int { return cmp.Compare(a.dist, b.dist) })
	if len(near) > dialNear {
		far, near = append(far, near[dialNear:]...), near[:dialNear]
	}
	slices.SortStableFunc(far, func(a, b entry) int { return cmp.Compare(a.rank, b.rank) })
	es := append(near, far...)
	out := make([]store.Peer, len(es))
	for i, e := range es {
		out[i] = e.p
	}
	return out
}
