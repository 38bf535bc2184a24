package overlay

import (
	"slices"

	"parley/identity"
	"parley/internal/wire"
)

// Pruning, the other half of Plumtree (Leitão, Pereira and Rodrigues,
// "Epidemic Broadcast Trees", 2007) beside lazy push (lazy.go). Lazy push sends a
// forwarded record in full to eagerFanout random links, so in a graph sparser
// than a full mesh every node took in about three full copies of each record:
// cmd/benchhall at 40 nodes with 8 dialled links each measured 19.7 kB/s a node
// against 13.5 in the full mesh (docs/benchmarks.md). With pruning, a node that
// receives a record in full a second time, from a link other than its author,
// tells that link to send it that author's records by reference only; each
// author's records then travel a tree in full, and references on the pruned
// links repair it: a node that pulls a record (TypeRecordWant) undoes the prune
// on the link it pulls from, so the tree regrows through it.
//
// To a peer that announces capPrune, a forwarded record goes in full to every
// link not pruned for its author (and not listed by the author, which had it
// from the author); to others, as lazy push has it.
const (
	// TypeRecordPrune lists authors by the have/want list format
	// (n × [peer ID 16][sequence u64]); the sequence is the duplicate's and is
	// not used.
	TypeRecordPrune = wire.FrameRecordPrune

	// capPrune says a peer sends and honours TypeRecordPrune.
	capPrune = "records-prune/1"

	// maxPruned bounds the authors one link remembers as pruned: the default
	// record cap, so an honest network never reaches it; past it a prune is
	// ignored and the link keeps sending in full (the old behaviour).
	maxPruned = 4096
)

// authorSet is a set of record authors, at most maxPruned (guarded by
// lazyLink.mu).
type authorSet map[identity.PeerID]struct{}

// add puts id in s; false when s is full without it.
func (s *authorSet) add(id identity.PeerID) bool {
	if *s == nil {
		*s = authorSet{}
	}
	if _, ok := (*s)[id]; !ok && len(*s) >= maxPruned {
		return false
	}
	(*s)[id] = struct{}{}
	return true
}

func (z *lazyLink) has(s *authorSet, id identity.PeerID) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	_, ok := (*s)[id]
	return ok
}

func (z *lazyLink) remove(s *authorSet, id identity.PeerID) {
	z.mu.Lock()
	delete(*s, id)
	z.mu.Unlock()
}

// queuePrune adds an author for the next batch and remembers that this side
// pruned it; false when it already had, or the set is full.
func (z *lazyLink) queuePrune(r recordRef) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	if _, ok := z.sentPrunes[r.ID]; ok || !z.sentPrunes.add(r.ID) {
		return false
	}
	z.prunes = append(z.prunes, r)
	return true
}

// prunedHere says whether this side asked the peer for author by reference
// only (and has not pulled from it since); pulled forgets it: a want to the
// peer grafts author there (handleRecordWant).
func (z *lazyLink) prunedHere(author identity.PeerID) bool { return z.has(&z.sentPrunes, author) }
func (z *lazyLink) pulled(author identity.PeerID)          { z.remove(&z.sentPrunes, author) }

// prune marks author as reference-only on this link; false when the set is full.
func (z *lazyLink) prune(author identity.PeerID) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.pruned.add(author)
}

// isPruned says whether author's records go to this link by reference only;
// graft undoes a prune: the peer asked for author's record, so the tree
// should reach it through this link again.
func (z *lazyLink) isPruned(author identity.PeerID) bool { return z.has(&z.pruned, author) }
func (z *lazyLink) graft(author identity.PeerID)         { z.remove(&z.pruned, author) }

// duplicateFrom is a record already held at its sequence that arrived in full
// from l: unless l is its author (which sends its own to every link), ask l to
// send that author's records by reference from now on — but never the last
// link this node has not pruned for the author. Which copy comes second
// varies from record to record, and pruning every second sender in turn would
// prune them all (TestDiamondPrunesTheSecondCopy): the tree would then reach
// this node only by pull, half a second late, until a want grafts it back.
func (o *Overlay) duplicateFrom(l *Link, author identity.PeerID, seq uint64) {
	if l == nil || l.Peer == author {
		return
	}
	o.mu.Lock()
	ok := o.canPrune(l.Peer)
	other := false
	for _, x := range o.links {
		if x != l && (x.Peer == author || !x.lazy.prunedHere(author)) {
			other = true
			break
		}
	}
	o.mu.Unlock()
	if !ok || !other {
		return
	}
	if l.lazy.queuePrune(recordRef{ID: author, Seq: seq}) {
		o.lazyPending.Store(true)
	}
}

// canPrune reports whether peer announced capPrune in its record; caller holds o.mu.
func (o *Overlay) canPrune(peer identity.PeerID) bool {
	r := o.records[peer]
	return r != nil && slices.Contains(r.Caps, capPrune)
}

// handleRecordPrune marks the listed authors reference-only toward l.
func (o *Overlay) handleRecordPrune(l *Link, payload []byte) {
	refs, err := decodeRecordRefs(payload)
	if err != nil {
		o.stats.Add("record_prune_malformed", 1)
		return
	}
	for _, r := range refs {
		if !l.lazy.prune(r.ID) {
			o.stats.Add("record_prune_full", 1)
			return
		}
	}
	o.stats.Add("record_prune_received", uint64(len(refs)))
}

// prunable reports whether peer announced capPrune (tests wait for it).
func (o *Overlay) prunable(peer identity.PeerID) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.canPrune(peer)
}
