package node

import (
	"strconv"

	"parley/internal/seqno"
)

// seqSetting is the settings key that keeps the sequence reservation of this
// node's records and beacons (internal/seqno), so that a restart with the clock
// set back still numbers them above its last goodbye.
const seqSetting = "seq_reserved"

// seqSource is the node's sequence source, continuing above the stored
// reservation. A value that does not parse counts as none: the clock and the
// peers' copies of this node's records (overlay.ownRecordSeen) take over.
func (n *Node) seqSource() (*seqno.Source, error) {
	v, _, err := n.db.Setting(seqSetting)
	if err != nil {
		return nil, err
	}
	stored, _ := strconv.ParseUint(v, 10, 64)
	s := seqno.New(n.cfg.Now, stored, func(r uint64) error {
		return n.db.SetSetting(seqSetting, strconv.FormatUint(r, 10))
	})
	s.SaveErr = func(err error) {
		n.stats.Add("seq_store_failed", 1)
		n.log.Warn("store sequence reservation", "err", err)
	}
	return s, nil
}
