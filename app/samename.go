package app

import (
	"strings"

	"parley/node"
)

// tellApart adds to the name of a peer whose display name another peer also
// uses the start of its safety number, so the rows read differently ("Alice ·
// 48213" beside "Alice · 90112"); the warning mark stays. As many groups are
// shown as it takes to tell this peer from every other of that name: anyone
// can pick a name, and a key whose first group matches someone's is quick to
// find (five digits), so a look-alike gets a longer number, not an equal one.
func (r *rosterView) tellApart(p node.PeerView, name string) string {
	others, same := r.conflicts[p.ID]
	if !same {
		return name
	}
	return name + " · " + distinctPrefix(p, others)
}

// distinctPrefix is the shortest run of p's safety-number groups that none of
// others starts with (all of them when one has the very same number); the
// peer ID stands in for a peer without a safety number.
func distinctPrefix(p node.PeerView, others []node.PeerView) string {
	groups := func(v node.PeerView) []string {
		if g := strings.Fields(v.Fingerprint); len(g) > 0 {
			return g
		}
		return []string{shortID(v.ID)}
	}
	mine := groups(p)
	for k := 1; k <= len(mine); k++ {
		prefix := strings.Join(mine[:k], " ")
		clash := false
		for _, o := range others {
			og := groups(o)
			clash = clash || len(og) >= k && strings.Join(og[:k], " ") == prefix
		}
		if !clash {
			return prefix
		}
	}
	return strings.Join(mine, " ")
}
