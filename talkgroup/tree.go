package talkgroup

import "parley/identity"

// The fan-out tree of a transmission is a k-ary heap over the speaker's
// ordered member list (best forwarders first, as ranked for the ptt purpose):
// the speaker sends to list[0:k], and list[i] forwards to list[k(i+1) :
// k(i+1)+k]. Every node that forwards learns the list from a tree frame
// (KindTree) the speaker sends it once a second; listeners need not know it.
// With k = 8, 50 listeners take the speaker 8 copies and 6 forwarders 8 each,
// two hops deep; 255 (MaxTree) take three hops.

// FanOut is the default number of copies a node sends of each frame.
const FanOut = 8

// RootChildren is who the speaker sends to.
func RootChildren(list []identity.PeerID, k int) []identity.PeerID {
	return list[:min(k, len(list))]
}

// Children is who self forwards to in list; nil for a leaf or a non-member.
func Children(list []identity.PeerID, self identity.PeerID, k int) []identity.PeerID {
	for i, id := range list {
		if id == self {
			lo := k * (i + 1)
			if lo >= len(list) {
				return nil
			}
			return list[lo:min(lo+k, len(list))]
		}
	}
	return nil
}

// Forwarders is the members of list with children: the ones the speaker
// sends tree frames to.
func Forwarders(list []identity.PeerID, k int) []identity.PeerID {
	n := 0
	for n < len(list) && k*(n+1) < len(list) {
		n++
	}
	return list[:n]
}
