package node

import (
	"context"
	"sync"

	"parley/identity"
	"parley/store"
)

// rosterWriter takes roster writes off the overlay event path. Each write is a
// bbolt commit (an fsync); written one by one from the event loop, a burst of
// peers coming online (a network joined, or an attacker's identities wired into
// the graph) queued every later event behind the disk: with 10,000 wired
// throwaway identities a newcomer's peer_up came 4.4-5.8 s after the overlay knew
// it was online (itest TestHostileRecordFloodNewcomer). Now the loop hands the
// entry over and a writer commits everything pending in one transaction.
//
// Memory: one entry per peer (a newer one is merged into the pending one), and
// only peers online in the overlay are written, so pending is bounded by the
// record table (overlay MaxRecords) plus the roster peers going offline.
type rosterWriter struct {
	put func([]store.Peer) error
	log func(err error, n int)

	mu      sync.Mutex
	pending map[identity.PeerID]store.Peer
	order   []identity.PeerID // first-queued first, so a backlog drains fairly
	kick    chan struct{}
	flushMu sync.Mutex // one flush at a time (the run loop and Stop)
}

// rosterBatch bounds one transaction: a larger batch holds bbolt's write lock
// (which chat commits share) longer; 512 entries of ~2 KiB commit in a few ms.
const rosterBatch = 512

func newRosterWriter(put func([]store.Peer) error, log func(err error, n int)) *rosterWriter {
	return &rosterWriter{put: put, log: log, pending: map[identity.PeerID]store.Peer{}, kick: make(chan struct{}, 1)}
}

// add queues p, merged into an entry still pending for the same peer.
func (w *rosterWriter) add(id identity.PeerID, p store.Peer) {
	w.mu.Lock()
	if old, ok := w.pending[id]; ok {
		p = store.MergePeer(old, p)
	} else {
		w.order = append(w.order, id)
	}
	w.pending[id] = p
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// run writes what is queued until ctx ends; Stop flushes the rest.
func (w *rosterWriter) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
			w.flush()
		}
	}
}

// flush writes everything pending, rosterBatch entries per transaction.
func (w *rosterWriter) flush() {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	for {
		w.mu.Lock()
		n := min(len(w.order), rosterBatch)
		batch := make([]store.Peer, 0, n)
		for _, id := range w.order[:n] {
			batch = append(batch, w.pending[id])
			delete(w.pending, id)
		}
		w.order = w.order[n:]
		if len(w.order) == 0 {
			w.order = nil // let the backing array go after a burst
		}
		w.mu.Unlock()
		if n == 0 {
			return
		}
		if err := w.put(batch); err != nil {
			w.log(err, n)
		}
	}
}
