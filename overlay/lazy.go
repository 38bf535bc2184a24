package overlay

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"parley/identity"
	"parley/internal/wire"
)

// Records spread by flooding, but not every copy in full. Flooding a record over
// every link delivers it to each node once per link: in a 40-node LAN each node
// received 37 copies of every record, about 88 kB/s per node while idle, and in a
// network of a few hundred that grows with both the node count and the degree. So
// a record goes in full only where it is likely new, and as a 24-byte reference
// (TypeRecordHave) everywhere else; a node that hears of a record it lacks asks for
// it (TypeRecordWant) if no full copy arrived within wantGrace. It is the split of
// Plumtree's eager and lazy push, without its tree:
//
//   - an author sends its own record in full to all its links;
//   - a node that accepts a new record sends it in full to at most eagerFanout
//     links chosen at random among those whose peer the record does not list as
//     the author's neighbour (those had it from the author), a reference to
//     every other link of a peer not listed, and to lazyRepair of the listed;
//   - peers that do not announce capPull get every record in full, as before.
//
// A new link still gets every record in full at once (syncTo).
const (
	// TypeRecordHave lists records the sender holds: n × [peer ID 16][seq u64].
	TypeRecordHave = wire.FrameRecordHave
	// TypeRecordWant asks for records by the same list; each one held at that
	// sequence or newer is sent back as a TypeRecord frame.
	TypeRecordWant = wire.FrameRecordWant

	// capPull is the capability that says a peer understands TypeRecordHave/Want.
	capPull = "records-pull/1"

	recordRefLen = identity.IDLen + 8
	// maxRecordRefs bounds one have or want frame (6 KiB).
	maxRecordRefs = 256
	// eagerFanout is how many links get a forwarded record in full. A random
	// 3-out graph is connected with high probability; pulls repair the rest.
	eagerFanout = 3
	// lazyRepair is how many links whose peer the record lists as the author's
	// neighbour get a reference anyway: that peer had the record in full from
	// the author unless the author's queue to it was full. A reference on every
	// such link cost a node (degree − 1) frames per record: in a hall of 40,
	// each linked to all 39 others, 60 frames a second of the 90 a node sent and
	// received while idle, nearly all to peers that had the record already.
	// With two, a peer the author's copy missed still hears of it from about
	// two in n−2 forwarders each. cmd/benchhall re-measures the traffic;
	// TestFullMeshSendsEachRecordOnce counts the references.
	lazyRepair = 2
	// wantGrace is how long a reference waits for a full copy before it is pulled.
	wantGrace = 500 * time.Millisecond
	// wantRetry is how long a sent want waits for its answer before it is asked
	// again (of the announcer with the lowest unanswered offer), and wantTries
	// how often each announcer is asked.
	wantRetry = 3 * time.Second
	wantTries = 3
	// lazyTick is how often references and wants are batched out.
	lazyTick = 100 * time.Millisecond
	// A link's wants are answered at up to wantRate records a second with bursts
	// of wantBurst, so asking cannot make a node send without bound.
	wantRate  = 256
	wantBurst = 1024
)

// recordRef names one record: its author and sequence number.
type recordRef struct {
	ID  identity.PeerID
	Seq uint64
}

var errRecordRefs = errors.New("malformed record reference list")

// appendRecordRefs encodes refs as a have/want payload.
func appendRecordRefs(dst []byte, refs []recordRef) []byte {
	for _, r := range refs {
		dst = append(dst, r.ID[:]...)
		dst = binary.BigEndian.AppendUint64(dst, r.Seq)
	}
	return dst
}

// decodeRecordRefs parses a have/want payload: 1 to maxRecordRefs entries of
// recordRefLen bytes, none with a zero ID.
func decodeRecordRefs(p []byte) ([]recordRef, error) {
	if len(p) == 0 || len(p)%recordRefLen != 0 || len(p)/recordRefLen > maxRecordRefs {
		return nil, fmt.Errorf("%w: %d bytes", errRecordRefs, len(p))
	}
	refs := make([]recordRef, 0, len(p)/recordRefLen)
	for ; len(p) > 0; p = p[recordRefLen:] {
		var r recordRef
		copy(r.ID[:], p[:identity.IDLen])
		if r.ID.IsZero() {
			return nil, fmt.Errorf("%w: zero peer ID", errRecordRefs)
		}
		r.Seq = binary.BigEndian.Uint64(p[identity.IDLen:recordRefLen])
		refs = append(refs, r)
	}
	return refs, nil
}

// lazyLink is a link's share of lazy push: references waiting to be batched out,
// and the budget for answering its wants.
type lazyLink struct {
	mu         sync.Mutex
	haves      []recordRef
	wants      []recordRef
	prunes     []recordRef // authors to prune at the peer, queued (prune.go)
	sentPrunes authorSet   // authors this side pruned at the peer
	pruned     authorSet   // authors the peer pruned: references only
	tokens     float64
	refilled   time.Time
}

// queueHave and queueWant add a reference for the next batch.
func (z *lazyLink) queueHave(r recordRef) {
	z.mu.Lock()
	z.haves = append(z.haves, r)
	z.mu.Unlock()
}

func (z *lazyLink) queueWant(r recordRef) {
	z.mu.Lock()
	z.wants = append(z.wants, r)
	z.mu.Unlock()
}

// take empties the queues.
func (z *lazyLink) take() (haves, wants, prunes []recordRef) {
	z.mu.Lock()
	defer z.mu.Unlock()
	haves, wants, prunes = z.haves, z.wants, z.prunes
	z.haves, z.wants, z.prunes = nil, nil, nil
	return haves, wants, prunes
}

// allow spends n answer tokens if there are that many.
func (z *lazyLink) allow(n int, now time.Time) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.refilled.IsZero() {
		z.tokens, z.refilled = wantBurst, now
	}
	z.tokens = min(wantBurst, z.tokens+now.Sub(z.refilled).Seconds()*wantRate)
	z.refilled = now
	if z.tokens < float64(n) {
		return false
	}
	z.tokens -= float64(n)
	return true
}

// pendingWant is a record heard of by reference and not yet held, with who
// announced it at which sequence number.
//
// Each announcer is asked only for the sequence number it announced, lowest
// first. A want used to hold one sequence number, the highest heard, and ask it
// of the latest announcer: a neighbour announcing 2^64-1 and never answering made
// every honest announcer be asked for a record nobody has, so the pull failed
// until the want expired, and the neighbour could announce again (issue 16).
// Now an honest announcer is asked for what it has, and an offer that is never
// answered costs only its own wantTries.
type pendingWant struct {
	offers []wantOffer // at most maxWantOffers, one per link
	due    time.Time
}

// wantOffer is one link's announcement of a record.
type wantOffer struct {
	from  *Link
	seq   uint64
	tries int
}

// maxWantOffers bounds the announcers remembered per want. When it is full the
// offer with the highest sequence number goes: the lowest is the one most
// likely to be answered, and the one asked first.
const maxWantOffers = 4

// offer notes that l announced seq; a link announcing again raises its offer.
// It reports whether l is a new announcer.
func (w *pendingWant) offer(l *Link, seq uint64) bool {
	for i := range w.offers {
		if w.offers[i].from == l {
			w.offers[i].seq = max(w.offers[i].seq, seq)
			return false
		}
	}
	w.offers = append(w.offers, wantOffer{from: l, seq: seq})
	if len(w.offers) > maxWantOffers {
		hi := 0
		for i, f := range w.offers {
			if f.seq > w.offers[hi].seq {
				hi = i
			}
		}
		w.offers = slices.Delete(w.offers, hi, hi+1)
	}
	return true
}

// next returns the offer to ask now: the lowest sequence number not yet asked
// wantTries times. Offers already held (at heldSeq or newer), asked too often, or
// of links that closed are dropped first; ok is false when none is left.
func (w *pendingWant) next(held bool, heldSeq uint64) (*wantOffer, bool) {
	w.offers = slices.DeleteFunc(w.offers, func(f wantOffer) bool {
		select {
		case <-f.from.Done():
			return true
		default:
		}
		return (held && heldSeq >= f.seq) || f.tries >= wantTries
	})
	if len(w.offers) == 0 {
		return nil, false
	}
	lo := 0
	for i, f := range w.offers {
		if f.seq < w.offers[lo].seq {
			lo = i
		}
	}
	return &w.offers[lo], true
}

// spread sends a record that was just accepted (from is nil for the own record)
// in full or by reference, as the comment at the top of this file says.
func (o *Overlay) spread(rec *Record, from *Link) {
	ref := recordRef{ID: rec.ID(), Seq: rec.Seq}
	o.mu.Lock()
	targets := make([]*Link, 0, len(o.links))
	pulls := make([]bool, 0, len(o.links))
	prunes := make([]bool, 0, len(o.links))
	for id, l := range o.links {
		if l == from || id == ref.ID {
			continue
		}
		targets = append(targets, l)
		pulls = append(pulls, o.canPull(id))
		prunes = append(prunes, o.canPrune(id))
	}
	o.mu.Unlock()
	own := from == nil
	listed := func(id identity.PeerID) bool {
		return slices.ContainsFunc(rec.Neighbours, func(n NeighbourInfo) bool { return n.ID == id })
	}
	// Random choices, so that the records of one author do not always take the
	// same few links.
	order := rand.Perm(len(targets))
	eager, repair := 0, 0
	for _, i := range order {
		l := targets[i]
		full := own || !pulls[i]
		hadIt := !full && listed(l.Peer)
		switch {
		case full || hadIt:
		case prunes[i]:
			// Plumtree: in full down every branch its peer has not pruned
			// (prune.go).
			full = !l.lazy.isPruned(ref.ID)
		case eager < eagerFanout:
			full = true
			eager++
		}
		if !full {
			if hadIt {
				if repair >= lazyRepair {
					continue
				}
				repair++
			}
			l.lazy.queueHave(ref)
			o.lazyPending.Store(true)
			continue
		}
		if err := l.send(TypeRecord, rec.raw); err != nil {
			o.stats.Add("record_forward_dropped", 1)
		}
	}
}

// canPull reports whether peer announced capPull in its record; caller holds o.mu.
func (o *Overlay) canPull(peer identity.PeerID) bool {
	r := o.records[peer]
	return r != nil && slices.Contains(r.Caps, capPull)
}

// handleRecordHave notes the referenced records this node lacks, to be pulled from
// l unless a full copy arrives first.
func (o *Overlay) handleRecordHave(l *Link, payload []byte) {
	refs, err := decodeRecordRefs(payload)
	if err != nil {
		o.stats.Add("record_have_malformed", 1)
		return
	}
	if o.cfg.Refuse != nil { // a blocked author's record would only be dropped
		refs = slices.DeleteFunc(refs, func(r recordRef) bool { return o.cfg.Refuse(r.ID) })
	}
	now := o.cfg.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range refs {
		if r.ID == o.cfg.Identity.ID {
			continue
		}
		if cur := o.records[r.ID]; cur != nil && cur.Seq >= r.Seq {
			continue
		}
		w, ok := o.wants[r.ID]
		if !ok {
			if len(o.wants) >= o.cfg.MaxRecords {
				o.stats.Add("record_have_dropped", 1)
				continue
			}
			w = pendingWant{due: now.Add(wantGrace)}
		}
		if w.offer(l, r.Seq) && w.due.After(now.Add(wantGrace)) {
			// A new announcer is asked after the grace, not after a retry
			// interval another announcer's silence started.
			w.due = now.Add(wantGrace)
		}
		o.wants[r.ID] = w
	}
}

// handleRecordWant sends back every asked-for record held at that sequence or newer.
func (o *Overlay) handleRecordWant(l *Link, payload []byte) {
	refs, err := decodeRecordRefs(payload)
	if err != nil {
		o.stats.Add("record_want_malformed", 1)
		return
	}
	if !l.lazy.allow(len(refs), o.cfg.Now()) {
		o.stats.Add("record_want_limited", uint64(len(refs)))
		return
	}
	for _, r := range refs {
		l.lazy.graft(r.ID) // the tree missed this peer: regrow it through l (prune.go)
	}
	raws := make([][]byte, 0, len(refs))
	o.mu.Lock()
	for _, r := range refs {
		rec := o.records[r.ID]
		if r.ID == o.cfg.Identity.ID {
			rec = o.selfRec
		}
		if rec != nil && rec.Seq >= r.Seq {
			raws = append(raws, rec.raw)
		}
	}
	o.mu.Unlock()
	for _, raw := range raws {
		if err := l.send(TypeRecord, raw); err != nil {
			o.stats.Add("record_forward_dropped", 1)
		}
	}
	o.stats.Add("record_want_answered", uint64(len(raws)))
}

// lazyLoop batches references and due wants out every lazyTick.
func (o *Overlay) lazyLoop(ctx context.Context) {
	t := time.NewTicker(lazyTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			o.queueDueWants(o.cfg.Now())
			o.flushLazy()
		}
	}
}

// queueDueWants moves wants whose grace has passed onto the queue of the link
// with the lowest unanswered offer, and forgets those whose offers were all
// answered, asked too often, or lost with their links.
func (o *Overlay) queueDueWants(now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for id, w := range o.wants {
		cur := o.records[id]
		var heldSeq uint64
		if cur != nil {
			heldSeq = cur.Seq
		}
		f, ok := w.next(cur != nil, heldSeq)
		if !ok {
			delete(o.wants, id)
			continue
		}
		if now.Before(w.due) {
			o.wants[id] = w
			continue
		}
		f.from.lazy.queueWant(recordRef{ID: id, Seq: f.seq})
		f.from.lazy.pulled(id) // the want grafts id back at the peer (prune.go)
		o.lazyPending.Store(true)
		f.tries++
		w.due = now.Add(wantRetry)
		o.wants[id] = w
	}
}

// flushLazy sends every link's waiting references, maxRecordRefs to a frame. An
// idle overlay has none, and then the tick costs one atomic load.
func (o *Overlay) flushLazy() {
	if !o.lazyPending.Swap(false) {
		return
	}
	o.mu.Lock()
	links := make([]*Link, 0, len(o.links))
	for _, l := range o.links {
		links = append(links, l)
	}
	o.mu.Unlock()
	for _, l := range links {
		haves, wants, prunes := l.lazy.take()
		o.sendRefs(l, TypeRecordHave, haves, "record_have_sent")
		o.sendRefs(l, TypeRecordWant, wants, "record_want_sent")
		o.sendRefs(l, TypeRecordPrune, prunes, "record_prune_sent")
	}
}

func (o *Overlay) sendRefs(l *Link, typ uint8, refs []recordRef, counter string) {
	for len(refs) > 0 {
		n := min(len(refs), maxRecordRefs)
		if err := l.send(typ, appendRecordRefs(make([]byte, 0, n*recordRefLen), refs[:n])); err != nil {
			o.stats.Add("record_forward_dropped", 1)
		} else {
			o.stats.Add(counter, uint64(n))
		}
		refs = refs[n:]
	}
}
