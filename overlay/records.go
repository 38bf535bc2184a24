package overlay

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"parley/identity"
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
func (o *Overlay) Seed(rec *Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := rec.ID()
	if cur := o.records[id]; id == o.cfg.Identity.ID || (cur != nil && cur.Seq >= rec.Seq) {
		return
	}
	o.records[id] = rec
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
		case id == o.cfg.Identity.ID:
			o.stats.Add("record_self", 1)
			return
		case cur != nil && seq == cur.Seq:
			o.stats.Add("record_duplicate", 1)
			return
		case cur != nil && seq < cur.Seq:
			o.stats.Add("record_drop_stale", 1)
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
		o.stats.Add("record_self", 1)
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
	o.mu.Lock()
	cur := o.records[id]
	switch {
	case cur != nil && rec.Seq == cur.Seq:
		// The normal echo of flooding over a mesh: every neighbour forwards it once.
		o.mu.Unlock()
		o.stats.Add("record_duplicate", 1)
		return
	case cur != nil && rec.Seq < cur.Seq:
		o.mu.Unlock()
		o.stats.Add("record_drop_stale", 1)
		return
	case cur == nil && len(o.records) >= o.cfg.MaxRecords:
		o.mu.Unlock()
		o.stats.Add("record_drop_full", 1)
		return
	}
	o.records[id] = rec
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
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.recomputeCh:
			o.recompute()
		}
	}
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
// so it learns the overlay in one round trip instead of waiting for updates.
func (o *Overlay) syncTo(l *Link) {
	o.mu.Lock()
	recs := make([][]byte, 0, len(o.records)+1)
	if o.selfRec != nil {
		recs = append(recs, o.selfRec.raw)
	}
	for id, r := range o.records {
		if id != l.Peer {
			recs = append(recs, r.raw)
		}
	}
	o.mu.Unlock()
	for _, raw := range recs {
		if err := l.send(TypeRecord, raw); err != nil {
			o.stats.Add("record_forward_dropped", 1)
		}
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
			if wait := o.cfg.PublishMinGap - time.Since(last); wait > 0 && !sleepCtx(ctx, wait) {
				return
			}
		}
		o.publish(false)
		last = time.Now()
		refresh.Reset(o.cfg.RefreshEvery)
	}
}

// nextSeq is clock based and strictly increasing, so a restarted node's records
// supersede the ones it published before.
func nextSeq(prev uint64, now time.Time) uint64 { return max(prev+1, uint64(now.UnixMicro())) }

// publish signs a fresh own record and floods it.
func (o *Overlay) publish(offline bool) *Record {
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
	if o.selfRec != nil {
		rec.Seq = nextSeq(o.selfRec.Seq, now)
	} else {
		rec.Seq = nextSeq(0, now)
	}
	for id, l := range o.links {
		rec.Neighbours = append(rec.Neighbours, NeighbourInfo{ID: id, RTT: l.Quality().SRTT})
	}
	slices.SortFunc(rec.Neighbours, func(a, b NeighbourInfo) int { return a.ID.Compare(b.ID) })
	o.mu.Unlock()
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
			sleepCtx(ctx, 5*time.Millisecond)
		}
	}
	// Give the writer a moment to flush the last frame it dequeued.
	sleepCtx(ctx, 20*time.Millisecond)
	for _, l := range links {
		l.Close()
	}
}
