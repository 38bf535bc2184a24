package overlay

import (
	"cmp"
	"slices"
	"time"

	"parley/identity"
)

// The record table holds at most MaxRecords records (4,096). Minting a record
// costs an attacker one key pair, so a table that only filled up let one flood of
// throwaway identities lock every later newcomer out of every node it reached
// (record_drop_full, even for a direct neighbour's record). Now a full table makes
// room by evicting, and some records are never evicted:
//
//   - Reserved: the records of peers this node has a link to (the links are the
//     scarce, authenticated part; a newcomer's own record reaches its neighbours
//     over those links), and up to keptReserve records seeded from the roster at
//     start (peers this node knew before). A reserved record that arrives at a
//     full table always gets in; only unreserved records are evicted for it.
//   - Evicted first, oldest first: goodbyes (record_evicted_offline), then records
//     whose author is not reachable over edges both ends vouch for
//     (record_evicted_unreachable) — what a flood of unwired identities is.
//   - Then reachable records, farthest first (most hops), then those first
//     reached through the peer that vouches for the most others (throwaway
//     identities wired into the graph all hang behind the attacker's few real
//     nodes), then the least recently heard (record_evicted_far). A new record
//     gets in only if the record it would evict ranks below it, so a newcomer near
//     this node displaces far Sybils and not the other way round.
//
// A record heard less than arrivalGrace ago whose author is not yet reachable
// ranks as reachable through the nearest neighbour it lists: a newcomer's record
// often arrives before the record of the neighbour that vouches for it.
//
// Records of authors never online during this run (unreachable, or a goodbye
// heard before anything else) also expire when unheard for recordExpiry, full
// table or not (record_expired_unreachable, record_expired_offline): what a flood
// of unwired identities leaves behind. The record of a peer that was online stays
// until evicted: chat and files take its key from it to seal for it while it is
// away. Reserved records never expire. TestFullTableAdmitsNewcomer and
// itest TestHostileRecordFloodNewcomer (10,000 Sybil records) exercise this.
const (
	// keptReserve bounds the roster records that are never evicted: a person's
	// contacts on a LAN number tens to hundreds; 1,024 leaves 3,072 places for
	// strangers at the default cap.
	keptReserve = 1024
	// arrivalGrace: the neighbour that vouches for a newcomer republishes within
	// PublishMinGap (250 ms) of the link, and a lost copy is pulled within
	// wantGrace + wantRetry (3.5 s); 10 s covers both.
	arrivalGrace = 10 * time.Second
	// recordExpiry: a live peer re-issues its record at least every RefreshEvery
	// (60 s), so a record unreachable and unheard for ten of those belongs to a
	// peer that left or never existed; the roster keeps its name.
	recordExpiry = 10 * time.Minute
	// expireEvery is how often a pass runs with nothing else asking, so that
	// expiry happens on a quiet node too.
	expireEvery = 30 * time.Second
)

// Eviction classes, worst first.
const (
	classOffline     int8 = iota // a goodbye
	classUnreachable             // no vouched path to the author
	classReachable               // online, or in arrival grace
)

// victim is an evictable record and its rank.
type victim struct {
	id    identity.PeerID
	class int8
	hops  int32 // classReachable: hops from this node
	load  int32 // classReachable: peers first reached through its parent
	heard time.Time
}

// worse reports whether a is evicted before b.
func worse(a, b victim) bool {
	if c := cmp.Compare(a.class, b.class); c != 0 {
		return c < 0
	}
	if a.class == classReachable {
		if a.hops != b.hops {
			return a.hops > b.hops
		}
		if a.load != b.load {
			return a.load > b.load
		}
	}
	if !a.heard.Equal(b.heard) {
		return a.heard.Before(b.heard)
	}
	return a.id.Less(b.id)
}

// nearest ranks a record not (yet) reachable as if reached through the nearest
// reachable neighbour it lists; ok is false when it lists none.
func nearest(r *Record, hops, load map[identity.PeerID]int32) (h, l int32, ok bool) {
	for _, n := range r.Neighbours {
		nh, reached := hops[n.ID]
		if !reached {
			continue
		}
		if nl := load[n.ID] + 1; !ok || nh+1 < h || nh+1 == h && nl < l {
			h, l, ok = nh+1, nl, true
		}
	}
	return h, l, ok
}

// rankVictims orders the unreserved records worst first and picks the expired.
func rankVictims(in *graphInput, res *graphResult) (victims, expired []victim) {
	reserved := make(map[identity.PeerID]bool, len(in.links)+len(in.grace))
	for _, l := range in.links {
		reserved[l.Peer] = true
	}
	for _, id := range in.grace {
		reserved[id] = true
	}
	victims = make([]victim, 0, len(in.records))
	for id, r := range in.records {
		if reserved[id] || in.kept[id] {
			continue
		}
		v := victim{id: id, heard: in.heard[id], class: classUnreachable}
		switch {
		case r.Offline:
			v.class = classOffline
		case res.online[id]:
			v.class, v.hops, v.load = classReachable, res.hops[id], res.parentLoad[id]
		case in.now.Sub(v.heard) < arrivalGrace:
			if h, l, ok := nearest(r, res.hops, res.load); ok {
				v.class, v.hops, v.load = classReachable, h, l
			}
		}
		if v.class != classReachable && !in.everOnline[id] && in.now.Sub(v.heard) >= recordExpiry {
			expired = append(expired, v)
			continue
		}
		victims = append(victims, v)
	}
	slices.SortFunc(victims, func(a, b victim) int {
		if worse(a, b) {
			return -1
		}
		if worse(b, a) {
			return 1
		}
		return 0
	})
	return victims, expired
}

// reservedLocked reports whether id's record is never evicted; caller holds o.mu.
func (o *Overlay) reservedLocked(id identity.PeerID) bool {
	_, graced := o.grace[id]
	return o.links[id] != nil || graced || o.kept[id]
}

// makeRoomLocked evicts one record so that rec (an author not held) fits in a
// full table, if one ranks below it; caller holds o.mu.
func (o *Overlay) makeRoomLocked(rec *Record, now time.Time) bool {
	id := rec.ID()
	reserved := o.reservedLocked(id)
	cand := victim{id: id, class: classUnreachable, heard: now}
	if h, l, ok := nearest(rec, o.hops, o.load); ok {
		cand.class, cand.hops, cand.load = classReachable, h, l
	}
	for pass := 0; pass < 2; pass++ {
		for len(o.victims) > 0 {
			v := o.victims[0]
			if cur := o.records[v.id]; cur == nil || !o.heard[v.id].Equal(v.heard) || o.reservedLocked(v.id) {
				o.victims = o.victims[1:] // gone, refreshed or reserved since it was ranked
				continue
			}
			if !reserved && !worse(v, cand) {
				return false // the list is worst first: nothing ranks below rec
			}
			o.victims = o.victims[1:]
			o.dropLocked(v.id)
			o.stats.Add([...]string{"record_evicted_offline", "record_evicted_unreachable", "record_evicted_far"}[v.class], 1)
			return true
		}
		// Every victim the last pass ranked is used up (or no pass ran yet): rank
		// the table as it is, with the last pass's hop counts. That is a sort of
		// the table, once per as many evictions as it holds records.
		o.victims = o.rankNowLocked()
	}
	return false // every record is reserved
}

// rankNowLocked ranks the table under the lock; caller holds o.mu.
func (o *Overlay) rankNowLocked() []victim {
	in := &graphInput{records: o.records, heard: o.heard, kept: o.kept, now: o.cfg.Now(), links: make([]*Link, 0, len(o.links))}
	for _, l := range o.links {
		in.links = append(in.links, l)
	}
	for id := range o.grace {
		in.grace = append(in.grace, id)
	}
	victims, _ := rankVictims(in, &graphResult{online: o.online, hops: o.hops, load: o.load, parentLoad: o.parentLoad})
	return victims
}

// expireLocked drops the records a pass found expired, unless they changed since;
// caller holds o.mu.
func (o *Overlay) expireLocked(expired []victim) {
	for _, v := range expired {
		if cur := o.records[v.id]; cur == nil || !o.heard[v.id].Equal(v.heard) || o.reservedLocked(v.id) {
			continue
		}
		o.dropLocked(v.id)
		if v.class == classOffline {
			o.stats.Add("record_expired_offline", 1)
		} else {
			o.stats.Add("record_expired_unreachable", 1)
		}
	}
}

// dropLocked removes a record (its author goes offline if it was online);
// caller holds o.mu.
func (o *Overlay) dropLocked(id identity.PeerID) {
	rec := o.records[id]
	delete(o.records, id)
	delete(o.heard, id)
	delete(o.everOnline, id)
	if o.online[id] {
		delete(o.online, id)
		o.emit(Event{Kind: PeerOffline, Peer: id, Record: rec})
	}
}

// heardStampLocked is now, or a nanosecond after the last stamp when the clock
// has not moved past it: eviction takes the oldest first, and records accepted
// within one tick of a coarse clock (Windows, ~0.5–16 ms) would otherwise tie
// and go in map order (TestRecordTableCap failed under Wine that way). Caller
// holds o.mu.
func (o *Overlay) heardStampLocked(now time.Time) time.Time {
	if !now.After(o.lastHeard) {
		now = o.lastHeard.Add(time.Nanosecond)
	}
	o.lastHeard = now
	return now
}
