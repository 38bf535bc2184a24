package linkquality

import (
	"context"
	"errors"
	"time"

	"parley/identity"
	"parley/overlay"
)

// OnProbeSeen records the rate at which a peer's probe reached us
// (overlay.Config.OnProbeSeen): our download capacity on that link.
func (q *Monitor) OnProbeSeen(peer identity.PeerID, bps float64) {
	q.mu.Lock()
	q.downBps[peer] = bps
	q.mu.Unlock()
}

// probeTimeout bounds one probe; a burst still unfinished by then means under 52 kbit/s.
const probeTimeout = 10 * time.Second

// probeSettle is how long a new link carries traffic before its first probe.
const probeSettle = 2 * time.Second

// probeDue probes, one at a time, the links not probed within ProbeInterval (a new
// link after it has carried traffic for probeSettle). Each probe is bounded to
// overlay.ProbeBytes.
func (q *Monitor) probeDue(ctx context.Context) {
	now := q.cfg.Now()
	for _, l := range q.cfg.Overlay.Links() {
		q.mu.Lock()
		last, seen := q.probedAt[l.Peer]
		q.mu.Unlock()
		if (seen && now.Sub(last) < q.cfg.ProbeInterval) || now.Sub(l.Since) < probeSettle {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		bps, err := q.cfg.Overlay.ProbeCapacity(pctx, l.Peer)
		cancel()
		q.mu.Lock()
		q.probedAt[l.Peer] = q.cfg.Now()
		switch {
		case err == nil && bps > 0:
			q.upBps[l.Peer] = bps
		case errors.Is(err, overlay.ErrProbeTimeout):
			// The bounded burst did not get through in time: the link carries less
			// than that, which is worth knowing (an unknown would look average).
			q.upBps[l.Peer] = float64(overlay.ProbeBytes*8) / probeTimeout.Seconds()
		}
		q.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
	}
}
