package selection

import (
	"cmp"
	"slices"

	"parley/identity"
)

// MaxPublishedLinks is how many of its links a peer puts in its record. A node
// keeps up to 32 links it dialled plus those dialled to it, so in a network of a
// few hundred it measures 50 or more; every record reaches every peer, and at 30
// bytes a link, publishing all of them made each peer receive several kB/s at 200
// peers (see docs/relay-selection.md). The rest still serve this node's own
// rankings (Graph.Own).
const MaxPublishedLinks = 16

// keepPublished is the RTT advantage a link already in the last record has over
// one that is not: a newcomer must be clearly nearer to push it out, so two links
// of nearly equal RTT at the boundary do not swap places in every record.
const keepPublished = 0.8

// PublishedLinks picks the links a record carries: all of them if there are at
// most max, else the max with the lowest RTT, counting a link that prev (the last
// record's links) carried at keepPublished of its RTT. Near links are the ones a
// relay between nearby peers uses, and the ones coordinates estimate worst in
// relative terms (queueing and access dominate a short path). The result is
// sorted by peer, as records are; links is not modified.
func PublishedLinks(links, prev []LinkMetric, max int) []LinkMetric {
	out := slices.Clone(links)
	if len(out) > max {
		was := make(map[identity.PeerID]bool, len(prev))
		for _, l := range prev {
			was[l.Peer] = true
		}
		score := func(l LinkMetric) float64 {
			s := float64(l.RTT)
			if was[l.Peer] {
				s *= keepPublished
			}
			return s
		}
		slices.SortStableFunc(out, func(a, b LinkMetric) int {
			if c := cmp.Compare(score(a), score(b)); c != 0 {
				return c
			}
			return a.Peer.Compare(b.Peer)
		})
		out = out[:max]
	}
	slices.SortFunc(out, func(a, b LinkMetric) int { return a.Peer.Compare(b.Peer) })
	return out
}
