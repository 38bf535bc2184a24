package linkquality

import (
	"slices"
	"sync"
	"time"
	"weak"

	"parley/identity"
	"parley/overlay"
	"parley/selection"
)

// EdgeCoster is the overlay's EdgeCost (edgeCost) with each record's published
// link figures decoded once. A graph pass asks for the cost of every edge it
// reads, up to 262,144 listings, and edgeCost decodes both ends' selection
// extension and scans their link lists each time: 3.8 s and 2.9 GB allocated for
// one pass of 4,096 records publishing 64 links each (BenchmarkEdgeCostPass),
// a cost anyone can force by publishing such records. Records are immutable once
// held, so their figures are cached, keyed by a weak pointer: a replaced record
// is not kept alive by the cache.
type EdgeCoster struct {
	mu      sync.Mutex
	figures map[weak.Pointer[overlay.Record]][]linkFigures
	held    int // figures held in all, against edgeCacheFigures
}

// linkFigures is what a record publishes of one of its links that routing uses.
type linkFigures struct {
	peer           identity.PeerID
	rttVar, jitter time.Duration
	loss           float32
}

// edgeCacheFigures bounds the cache: twice the figures one pass can read (the
// overlay's 262,144 listings), 40 bytes each (~21 MB at worst). Past it the cache
// starts again; entries of records gone since count until then.
const edgeCacheFigures = 2 * 262144

// NewEdgeCoster returns an empty cache; its Cost is overlay.Config.EdgeCost.
func NewEdgeCoster() *EdgeCoster {
	return &EdgeCoster{figures: map[weak.Pointer[overlay.Record]][]linkFigures{}}
}

// Cost is edgeCost with cached figures.
func (c *EdgeCoster) Cost(u, v identity.PeerID, ru, rv *overlay.Record, rtt time.Duration) time.Duration {
	li := selection.LinkInfo{RTT: rtt}
	for _, end := range [2]struct {
		rec  *overlay.Record
		peer identity.PeerID
	}{{ru, v}, {rv, u}} {
		figs := c.of(end.rec)
		i, _ := slices.BinarySearchFunc(figs, end.peer, func(f linkFigures, p identity.PeerID) int { return f.peer.Compare(p) })
		for ; i < len(figs) && figs[i].peer == end.peer; i++ {
			li.RTTVar = max(li.RTTVar, figs[i].rttVar)
			li.Jitter = max(li.Jitter, figs[i].jitter)
			li.Loss = max(li.Loss, figs[i].loss)
		}
	}
	return time.Duration(selection.EdgeCost(selection.ChatForward, li) * float64(time.Millisecond))
}

// of returns rec's link figures sorted by peer, decoding them on first use.
func (c *EdgeCoster) of(rec *overlay.Record) []linkFigures {
	if rec == nil {
		return nil
	}
	key := weak.Make(rec)
	c.mu.Lock()
	figs, ok := c.figures[key]
	c.mu.Unlock()
	if ok {
		return figs
	}
	if m, ok := Published(rec); ok && len(m.Links) > 0 {
		figs = make([]linkFigures, len(m.Links))
		for i, l := range m.Links {
			figs[i] = linkFigures{peer: l.Peer, rttVar: l.RTTVar, jitter: l.Jitter, loss: l.Loss}
		}
		slices.SortFunc(figs, func(a, b linkFigures) int { return a.peer.Compare(b.peer) })
	}
	c.mu.Lock()
	if c.held+len(figs) > edgeCacheFigures || len(c.figures) >= edgeCacheFigures {
		clear(c.figures)
		c.held = 0
	}
	c.figures[key] = figs
	c.held += len(figs)
	c.mu.Unlock()
	return figs
}

// edgeCost is the overlay's routing weight for chat: the chat-forwarding cost of the
// link u→v from what both ends published (the worse view of each figure counts). It
// runs under the overlay's lock, so it reads only the records it is given. It
// decodes both records on every call; EdgeCoster.Cost is the same with the
// figures cached, and TestEdgeCosterMatchesEdgeCost holds them equal.
func edgeCost(u, v identity.PeerID, ru, rv *overlay.Record, rtt time.Duration) time.Duration {
	li := selection.LinkInfo{A: u.String(), B: v.String(), RTT: rtt}
	for _, end := range []struct {
		rec  *overlay.Record
		peer identity.PeerID
	}{{ru, v}, {rv, u}} {
		m, ok := Published(end.rec)
		if !ok {
			continue
		}
		for _, l := range m.Links {
			if l.Peer == end.peer {
				li.RTTVar = max(li.RTTVar, l.RTTVar)
				li.Jitter = max(li.Jitter, l.Jitter)
				li.Loss = max(li.Loss, l.Loss)
			}
		}
	}
	return time.Duration(selection.EdgeCost(selection.ChatForward, li) * float64(time.Millisecond))
}
