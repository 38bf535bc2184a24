package hostile

import (
	"fmt"
	"time"

	"parley/identity"
)

// SybilFlood is a flood of validly signed records of fresh identities, the first
// Wired of them wired into the overlay graph behind the attacker: the attacker's
// own record (Own) lists the victim it links to and each wired identity, and each
// of those lists the attacker back, so an honest node reaches them through the
// attacker's link and shows them online. The rest list nobody: cheap
// identities no honest node can reach.
type SybilFlood struct {
	Own     []byte   // the attacker's record; send it first
	Records [][]byte // one record per throwaway identity
	IDs     []identity.PeerID
}

// NewSybilFlood signs n throwaway records, wired of them (at most 511: the record
// format caps a neighbour list at 512, and the victim takes one place) behind
// attacker, who links to victim.
func NewSybilFlood(attacker *identity.Identity, victim identity.PeerID, n, wired int) (*SybilFlood, error) {
	if wired > 511 || wired > n {
		return nil, fmt.Errorf("hostile: %d wired of %d sybils (at most 511)", wired, n)
	}
	fakes, err := Throwaway(n)
	if err != nil {
		return nil, err
	}
	seq := uint64(time.Now().UnixMicro())
	f := &SybilFlood{}
	listed := []identity.PeerID{victim}
	for i, id := range fakes {
		var nbs []identity.PeerID
		if i < wired {
			nbs = []identity.PeerID{attacker.ID}
			listed = append(listed, id.ID)
		}
		raw, err := SignRecord(id, seq, fmt.Sprintf("sybil-%d", i), nbs)
		if err != nil {
			return nil, err
		}
		f.Records = append(f.Records, raw)
		f.IDs = append(f.IDs, id.ID)
	}
	if f.Own, err = SignRecord(attacker, seq, "evil", listed); err != nil {
		return nil, err
	}
	return f, nil
}
