package linkquality

import (
	"time"

	"parley/identity"
	"parley/selection"
	"parley/vivaldi"
)

// OnRTT takes a ping RTT sample (overlay.Config.OnRTTSample). It feeds the link's
// estimator, and the network coordinate when the peer published a valid one:
// through a moving median first, so one delayed pong does not drag the
// coordinate around.
func (q *Monitor) OnRTT(peer identity.PeerID, rtt time.Duration) {
	remote, ok := Published(q.cfg.Overlay.RecordOf(peer))
	q.mu.Lock()
	defer q.mu.Unlock()
	e := q.est[peer]
	if e == nil {
		e = &selection.LinkEstimator{}
		q.est[peer] = e
	}
	e.AddRTT(rtt)
	if !ok || remote.Coord.IsZero() || !remote.Coord.Valid() {
		return
	}
	f := q.filters[peer]
	if f == nil {
		f = &vivaldi.Filter{}
		q.filters[peer] = f
	}
	q.coord.Update(remote.Coord, f.Add(rtt))
}

// Coord is this node's network coordinate now.
func (q *Monitor) Coord() vivaldi.Coord {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.coord
}
