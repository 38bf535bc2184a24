package overlay

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"parley/identity"
	"parley/internal/clockwait"
)

// Profile is what the node says about itself in its record.
type Profile struct {
	Name     string
	Presence Presence
	Status   string
	// Extensions are published verbatim (e.g. the rooms this node has joined).
	Extensions []Extension
}

// SetProfile updates the own record's name, presence and status and republishes.
func (o *Overlay) SetProfile(p Profile) error {
	if len(p.Status) > maxStatusText {
		return errors.New("status text longer than 512 bytes")
	}
	if len(p.Name) > 64 {
		return errors.New("display name longer than 64 bytes")
	}
	if p.Presence > Busy {
		return fmt.Errorf("presence %d out of range", p.Presence)
	}
	o.mu.Lock()
	o.self.Name, o.self.Presence, o.self.Status = p.Name, p.Presence, p.Status
	o.self.Extensions = p.Extensions
	o.mu.Unlock()
	o.requestPublish()
	return nil
}

// Records returns the newest record of every known peer (not including our own).
func (o *Overlay) Records() []*Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]*Record, 0, len(o.records))
	for _, r := range o.records {
		out = append(out, r)
	}
	return out
}

// RecordOf returns a peer's newest record.
func (o *Overlay) RecordOf(id identity.PeerID) *Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.records[id]
}

// SelfRecord returns the record this node last published.
func (o *Overlay) SelfRecord() *Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.selfRec
}

// Seed installs a record loaded from the roster (already verified), so a peer known
// from an earlier run has a name before it is heard from again. It is not flooded.
// The first keptReserve seeded records are never evicted nor expired (evict.go).
func (o *Overlay) Seed(rec *Record) {
	sortNeighbours(rec)
	o.mu.Lock()
	defer o.mu.Unlock()
	id := rec.ID()
	cur := o.records[id]
	if id == o.cfg.Identity.ID || (cur != nil && cur.Seq >= rec.Seq) {
		return
	}
	if len(o.kept) < keptReserve {
		o.kept[id] = true
	}
	if cur == nil && len(o.records) >= o.cfg.MaxRecords && !o.makeRoomLocked(rec, o.cfg.Now()) {
		o.stats.Add("record_drop_full", 1)
		return
	}
	o.records[id] = rec
	o.heard[id] = o.heardStampLocked(o.cfg.Now())
}

func (o *Overlay) handleRecord(from *Link, payload []byte) {
	// The normal echo of flooding over a mesh: every neighbour forwards each record
	// once, and every new link syncs them all. Those copies are told apart by the
	// sequence number alone; verifying each one's signature first made a 40-node
	// mesh on one machine spend its CPU on copies it then dropped.
	if id, seq, ok := peekRecord(payload); ok {
		o.mu.Lock()
		cur := o.records[id]
		o.mu.Unlock()
		switch {
		case id == o.cfg.Identity.ID && seq <= o.cfg.Seq.Last():
			o.stats.Add("record_self", 1)
			return
		case cur != nil && seq == cur.Seq:
			o.stats.Add("record_duplicate", 1)
			o.duplicateFrom(from, id, seq)
			return
		case cur != nil && seq < cur.Seq:
			o.stats.Add("record_drop_stale", 1)
			o.tellAuthor(from, id, cur)
			return
		}
	}
	rec, err := DecodeRecord(payload)
	if err != nil {
		if errors.Is(err, ErrRecordSig) {
			o.stats.Add("record_drop_forged", 1)
		} else {
			o.stats.Add("record_drop_malformed", 1)
		}
		o.log.Debug("record dropped", "from", from.Peer.Short(), "err", err)
		return
	}
	id := rec.ID()
	if id == o.cfg.Identity.ID {
		o.ownRecordSeen(rec)
		return
	}
	if o.cfg.Refuse != nil && o.cfg.Refuse(id) {
		o.stats.Add("record_drop_blocked", 1)
		return
	}
	if o.cfg.Team != nil && !teamRecordOK(o.cfg.Team, rec) {
		o.stats.Add("record_drop_team", 1)
		return
	}
	sortNeighbours(rec)
	now := o.cfg.Now()
	o.mu.Lock()
	cur := o.records[id]
	switch {
	case cur != nil && rec.Seq == cur.Seq:
		// The normal echo of flooding over a mesh: every neighbour forwards it once.
		o.mu.Unlock()
		o.stats.Add("record_duplicate", 1)
		o.duplicateFrom(from, id, rec.Seq)
		return
	case cur != nil && rec.Seq < cur.Seq:
		o.mu.Unlock()
		o.stats.Add("record_drop_stale", 1)
		o.tellAuthor(from, id, cur)
		return
	case cur == nil && len(o.records) >= o.cfg.MaxRecords && !o.makeRoomLocked(rec, now):
		o.mu.Unlock()
		o.stats.Add("record_drop_full", 1)
		return
	}
	o.records[id] = rec
	o.heard[id] = o.heardStampLocked(now)
	o.emit(Event{Kind: RecordChanged, Peer: id, Record: rec})
	o.mu.Unlock()
	o.stats.Add("record_accepted", 1)
	o.spread(rec, from)
	o.requestRecompute()
}

// requestRecompute asks for a reachability pass without waiting for it. Records
// arrive one per frame, and a pass walks the whole graph under the overlay's lock:
// one pass per record made a burst of n records (thousands of throwaway
// identities, in the adversarial tests) cost O(n²) and starved every link's
// reader of the lock. Passes requested while one runs fold into the next.
func (o *Overlay) requestRecompute() {
	select {
	case o.recomputeCh <- struct{}{}:
	default:
	}
}

func (o *Overlay) recomputeLoop(ctx context.Context) {
	// A pass runs at most every max(recomputeMinGap, recomputeBackoff × the last
	// pass), so a flood of records costs at most a fifth of a core in passes, and
	// at least every expireEvery, so records expire on a quiet node too.
	expire := time.NewTicker(expireEvery)
	defer expire.Stop()
	// resend is armed while online/offline events wait for room in the channel
	// (presence_events.go).
	var resend <-chan time.Time
	lostPending := func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.resendPresenceLocked()
		return len(o.lost) > 0
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-resend:
			resend = nil
			if lostPending() {
				resend = time.After(resendEvery)
			}
			continue
		case <-o.recomputeCh:
		case <-expire.C:
		}
		start := time.Now()
		o.recompute()
		if resend == nil && lostPending() {
			resend = time.After(resendEvery)
		}
		if !clockwait.Sleep(ctx, max(recomputeMinGap, recomputeBackoff*time.Since(start))) {
			return
		}
	}
}

// resendEvery is how often dropped online/offline events are retried while the
// channel is full: a consumer that fell behind catches up in well under a
// second, and a retry costs a map walk of the few peers waiting.
const resendEvery = 100 * time.Millisecond

// tellAuthorEvery: a restarted author needs one reply; its records come at most
// every PublishMinGap (250 ms), so one reply per 5 s costs a twentieth of them.
const tellAuthorEvery = 5 * time.Second

// ownRecordSeen handles a record of our own identity that a peer sent, verified:
// one from an earlier run of this node (its seq store lost, or its clock set
// back) numbered above what we issue now. Every peer keeps that one and drops
// ours as stale, so the sequence jumps past it and a fresh record goes out.
func (o *Overlay) ownRecordSeen(rec *Record) {
	if rec.Seq <= o.cfg.Seq.Last() {
		o.stats.Add("record_self", 1)
		return
	}
	o.cfg.Seq.Observe(rec.Seq)
	o.stats.Add("record_self_newer", 1)
	o.log.Info("a peer holds a newer record of ours (restarted with the clock behind?); republishing above it", "seq", rec.Seq)
	o.requestPublish()
}

// tellAuthor answers a stale record that came from its author over a
// direct link with the newer one we hold: the author restarted and lost track of
// its sequence, and would otherwise stay offline to everyone. At most one reply
// per author every tellAuthorEvery, so a stale record (checked by its header
// alone) cannot make this node send more than it receives. from is nil for
// records not from a link.
func (o *Overlay) tellAuthor(from *Link, author identity.PeerID, cur *Record) {
	if from == nil || from.Peer != author {
		return
	}
	now := o.cfg.Now()
	o.mu.Lock()
	if o.told == nil || len(o.told) >= o.cfg.MaxRecords {
		o.told = map[identity.PeerID]time.Time{} // only linked authors get here; forget old ones
	}
	last, ok := o.told[author]
	if ok && now.Sub(last) < tellAuthorEvery {
		o.mu.Unlock()
		return
	}
	o.told[author] = now
	o.mu.Unlock()
	if err := from.send(TypeRecord, cur.raw); err != nil {
		o.stats.Add("record_forward_dropped", 1)
	}
	o.stats.Add("record_told_author", 1)
}

// linksExcept lists links other than to skip; caller holds o.mu.
func (o *Overlay) linksExcept(skip identity.PeerID) []*Link {
	out := make([]*Link, 0, len(o.links))
	for id, l := range o.links {
		if id != skip {
			out = append(out, l)
		}
	}
	return out
}

// syncTo sends a new neighbour everything we know: our record first, then the rest,
// so it learns the overlay in one round trip instead of waiting for updates. That
// includes the neighbour's own record as we hold it: a node restarted with its
// clock behind learns from it where its sequence must continue (ownRecordSeen).
//
// A full table (4,096 records) is more than a link's queue holds (1,024 frames),
// so the records go nearest first: linked peers', then online peers' by hop
// count, then the rest. Those the queue refuses go as references (record have),
// for the neighbour to pull. In a table a flood filled, the honest records are
// the near and online ones; sent in map order, a newcomer got a random quarter of
// the table and often lacked the records of the very peers that wrote to it.
func (o *Overlay) syncTo(l *Link) {
	o.mu.Lock()
	type entry struct {
		rec  *Record
		rank int32
	}
	recs := make([]entry, 0, len(o.records)+1)
	if o.selfRec != nil {
		recs = append(recs, entry{o.selfRec, -1})
	}
	for id, r := range o.records {
		rank := int32(math.MaxInt32)
		switch {
		case o.links[id] != nil:
			rank = 0
		case o.online[id]:
			rank = 1 + o.hops[id]
		}
		recs = append(recs, entry{r, rank})
	}
	o.mu.Unlock()
	slices.SortStableFunc(recs, func(a, b entry) int { return cmp.Compare(a.rank, b.rank) })
	full := true
	for _, e := range recs {
		if full {
			if err := l.send(TypeRecord, e.rec.raw); err == nil {
				continue
			}
			full = false
		}
		o.stats.Add("record_sync_deferred", 1)
		l.lazy.queueHave(recordRef{ID: e.rec.ID(), Seq: e.rec.Seq})
		o.lazyPending.Store(true)
	}
}

func (o *Overlay) requestPublish() {
	select {
	case o.publishCh <- struct{}{}:
	default:
	}
}

// publishLoop re-issues the own record when something changed, at most once per
// PublishMinGap so a burst of link changes costs one record, and when RefreshEvery
// passed without one, so the neighbours' RTT figures stay fresh. The refresh counts
// from the last record, not on a fixed beat: every record reaches every peer, and a
// beat on top of the changes made a node of a busy overlay publish up to twice as
// often as either alone.
func (o *Overlay) publishLoop(ctx context.Context) {
	refresh := time.NewTimer(o.cfg.RefreshEvery)
	defer refresh.Stop()
	var last time.Time
	o.publish(false)
	last = time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
		case <-o.publishCh:
			if wait := o.publishGap() - time.Since(last); wait > 0 && !clockwait.Sleep(ctx, wait) {
				return
			}
		}
		o.publish(false)
		last = time.Now()
		refresh.Reset(o.refreshPeriod())
	}
}

// refreshSpacing is the mean gap between two refreshed records that the refreshes
// of a whole overlay together aim for at every node: each record reaches every
// node in full once, about 1.5 kB in a hall where nodes have 40 links. A node
// with n peers online refreshes its own every max(RefreshEvery, n ×
// refreshSpacing), at most maxRefresh: every minute up to 60 peers, as before; every 200 s among
// 200, where one-minute refreshes were 3.3 records a second at every node.
// Changes (links, presence, quality) are still published at once.
// cmd/benchhall re-measures the traffic.
const refreshSpacing = time.Second

// publishSpacing is, per peer online, how long the least gap between two own
// records grows: each one reaches every node, so while links come up after a
// hall starts (a record per new link, at most one per PublishMinGap) n nodes
// send every node n records per gap, each checked and each a graph pass. The
// gap is max(PublishMinGap, n × publishSpacing) once that passes the default
// 250 ms, at most maxPublishGap: as before up to 12 peers, 0.8 s among 40 (every
// node then takes in about 50 records a second at most), 1 s from 50 on.
// cmd/benchhall re-measures the start-up.
const publishSpacing = 20 * time.Millisecond

// publishGap is the least time between two own records.
func (o *Overlay) publishGap() time.Duration {
	o.mu.Lock()
	n := len(o.online)
	o.mu.Unlock()
	return publishGapFor(o.cfg.PublishMinGap, n)
}

// maxPublishGap bounds publishGap: a newcomer is listed in its neighbours'
// records, and so seen online, at most this late.
const maxPublishGap = time.Second

// publishGapFor is publishGap for a node with n peers online. It counts online
// peers, not records held: a flood of throwaway records (itest
// TestHostileRecordFloodNewcomer, 10,000 of them) would otherwise stretch the gap
// to minutes and hide every newcomer that long.
func publishGapFor(base time.Duration, n int) time.Duration {
	if scaled := min(maxPublishGap, time.Duration(n)*publishSpacing); scaled > 250*time.Millisecond {
		return max(base, scaled)
	}
	return base
}

// maxRefresh keeps refreshes well inside recordExpiry, so a record never
// expires between two of them.
const maxRefresh = recordExpiry / 2

// refreshPeriod is how long the own record may go unrefreshed.
func (o *Overlay) refreshPeriod() time.Duration {
	o.mu.Lock()
	n := len(o.online)
	o.mu.Unlock()
	return refreshPeriodFor(o.cfg.RefreshEvery, n)
}

// refreshPeriodFor is refreshPeriod for a node with n peers online (not records
// held, which a flood can inflate).
func refreshPeriodFor(base time.Duration, n int) time.Duration {
	// Only past the default minute, so a test's shorter RefreshEvery holds.
	if scaled := min(maxRefresh, time.Duration(n)*refreshSpacing); scaled > time.Minute {
		return max(base, scaled)
	}
	return base
}

// SeqSource issues the own records' sequence numbers: strictly increasing, across
// restarts too (internal/seqno keeps them in the node's store). Last is the
// highest issued or observed; Observe notes one of ours seen elsewhere.
type SeqSource interface {
	Next() uint64
	Observe(seen uint64)
	Last() uint64
}

// publish signs a fresh own record and floods it.
func (o *Overlay) publish(offline bool) *Record {
	// One at a time: a goodbye and a refresh signed at once could otherwise be
	// stored out of sequence order.
	o.publishMu.Lock()
	defer o.publishMu.Unlock()
	now := o.cfg.Now()
	o.mu.Lock()
	if o.stopping && !offline {
		o.mu.Unlock()
		return nil
	}
	rec := Record{
		Issued: now, Offline: offline,
		Name: o.self.Name, Presence: o.self.Presence, Status: o.self.Status,
		Caps: o.self.Caps, Extensions: o.self.Extensions,
	}
	for id, l := range o.links {
		rec.Neighbours = append(rec.Neighbours, NeighbourInfo{ID: id, RTT: l.SRTT()})
	}
	slices.SortFunc(rec.Neighbours, func(a, b NeighbourInfo) int { return a.ID.Compare(b.ID) })
	o.mu.Unlock()
	rec.Seq = o.cfg.Seq.Next()
	rec.Addrs = o.AdvertisedAddrs()
	if o.cfg.Team != nil {
		rec.Extensions = append(slices.Clone(rec.Extensions), Extension{Type: RecordExtTeam, Value: teamRecordTag(o.cfg.Team, o.cfg.Identity.Public, rec.Seq)})
	}
	if err := rec.Sign(o.cfg.Identity); err != nil {
		o.log.Error("sign own record", "err", err)
		return nil
	}
	o.mu.Lock()
	o.selfRec = &rec
	o.mu.Unlock()
	o.spread(&rec, nil)
	o.stats.Add("record_published", 1)
	return &rec
}

// AdvertisedAddrs are the addresses others can reach the link listener on: the
// interface addresses when it listens on all of them, else its one bound address.
func (o *Overlay) AdvertisedAddrs() []netip.AddrPort {
	if ap, err := netip.ParseAddrPort(o.ln.Addr().String()); err == nil && !ap.Addr().IsUnspecified() {
		return []netip.AddrPort{ap}
	}
	var out []netip.AddrPort
	for _, ip := range o.cfg.LocalAddrs() {
		out = append(out, netip.AddrPortFrom(ip, o.port))
	}
	return out
}

// Shutdown says goodbye: an offline record goes to every neighbour (and floods on),
// then links close once their queues drain or ctx ends.
func (o *Overlay) Shutdown(ctx context.Context) {
	o.mu.Lock()
	o.stopping = true
	o.mu.Unlock()
	o.publish(true)
	o.mu.Lock()
	links := o.linksExcept(identity.PeerID{})
	o.mu.Unlock()
	for _, l := range links {
		for len(l.queue) > 0 && ctx.Err() == nil {
			clockwait.Sleep(ctx, 5*time.Millisecond)
		}
	}
	// Give the writer a moment to flush the last frame it dequeued.
	clockwait.Sleep(ctx, 20*time.Millisecond)
	for _, l := range links {
		l.Close()
	}
}
