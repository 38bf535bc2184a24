package node

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	"parley/identity"
	"parley/internal/clockwait"
	"parley/overlay"
	"parley/selection"
	"parley/store"
	"parley/vivaldi"
)

// peerView assembles what is known of a peer from its record, link and roster entry.
func (n *Node) peerView(id identity.PeerID) PeerView {
	v := PeerView{ID: id.String(), Presence: PresenceOffline}
	rec := n.ov.RecordOf(id)
	if rec != nil {
		v.Name, v.Status = rec.Name, rec.Status
		v.Fingerprint = identity.Fingerprint(rec.PubKey)
		for _, a := range rec.Addrs {
			v.Addrs = append(v.Addrs, a.String())
		}
		for _, nb := range rec.Neighbours {
			v.Neighbours = append(v.Neighbours, nb.ID.String())
		}
		if m, ok := published(rec); ok {
			v.Quality = publishedView(m)
		}
		v.WebFingerprint = n.recordWebFingerprint(rec)
		v.Guest, v.Via = n.guestOf(rec)
		v.SIP = v.Guest && isSIPDevice(rec) // node/devicesrecord.go
	}
	if n.ov.Online(id) && rec != nil {
		v.Online = true
		v.Presence = presenceView(rec.Presence)
	}
	if l := n.ov.Link(id); l != nil && v.Online {
		v.Direct = true
		v.RTTMicros = l.Quality().SRTT.Microseconds()
	}
	if p, ok, _ := n.db.GetPeer(id.String()); ok {
		v.Verified, v.Blocked = p.Verified, p.Blocked
		if v.Name == "" {
			v.Name = p.Name
		}
		if v.Fingerprint == "" && p.PubKey != nil {
			v.Fingerprint = identity.Fingerprint(p.PubKey)
		}
		if !v.Online && !p.LastSeen.IsZero() {
			seen := p.LastSeen
			v.LastSeen = &seen
		}
	}
	return v
}

func publishedView(m selection.SelfMetrics) *PublishedQuality {
	q := &PublishedQuality{
		Power: m.Power.String(), LinkType: m.LinkType.String(), CPULoad: m.CPULoad,
		SpareUpKbps: m.SpareUpKbps, SpareDownKbps: m.SpareDownKbps,
		RelaySessions: m.RelaySessions, RelayKbps: m.RelayKbps, CoordError: m.Coord.Error,
		Links: []PublishedLink{},
	}
	for _, l := range m.Links {
		q.Links = append(q.Links, PublishedLink{Peer: l.Peer.String(), RTTus: l.RTT.Microseconds(),
			RTTVarUs: l.RTTVar.Microseconds(), JitterUs: l.Jitter.Microseconds(), Loss: l.Loss})
	}
	return q
}

// Roster lists every peer ever seen: online ones first, then by name.
func (n *Node) Roster() ([]PeerView, error) {
	ids := map[identity.PeerID]bool{}
	for _, r := range n.ov.Records() {
		ids[r.ID()] = true
	}
	peers, err := n.db.Peers()
	if err != nil {
		return nil, err
	}
	for _, p := range peers {
		if id, err := identity.ParsePeerID(p.ID); err == nil {
			ids[id] = true
		}
	}
	delete(ids, n.id.ID)
	out := make([]PeerView, 0, len(ids))
	for id := range ids {
		out = append(out, n.peerView(id))
	}
	slices.SortFunc(out, func(a, b PeerView) int {
		if a.Online != b.Online {
			if a.Online {
				return -1
			}
			return 1
		}
		if a.Name != b.Name {
			if a.Name < b.Name {
				return -1
			}
			return 1
		}
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	return out, nil
}

// persistPeer writes a peer's newest record and addresses to the roster: the link's
// remote address first (it just worked), then the addresses the peer publishes.
//
// Records change often (link-quality figures, neighbour RTTs) while what the roster
// needs (name, key, addresses) rarely does, so unless force is set a write is skipped
// when none of those changed and the last write is under rosterRefresh old: every
// write is an fsync.
func (n *Node) persistPeer(id identity.PeerID, force bool) {
	rec := n.ov.RecordOf(id)
	if rec == nil {
		return
	}
	p := store.Peer{ID: id.String(), PubKey: rec.PubKey, Name: rec.Name, Record: rec.Raw(), LastSeen: n.cfg.Now(), FirstSeen: n.cfg.Now()}
	if l := n.ov.Link(id); l != nil && l.Remote.IsValid() {
		// The remote port of an inbound link is ephemeral; only an outbound one is a
		// listener worth caching.
		if l.Outbound {
			p.Addrs = append(p.Addrs, l.Remote.String())
		}
	}
	for _, a := range rec.Addrs {
		if s := a.String(); !slices.Contains(p.Addrs, s) {
			p.Addrs = append(p.Addrs, s)
		}
	}
	// What is worth a write: the name and addresses the roster shows, and the
	// rooms the peer is in (restored at start, so that a room message said before
	// anyone is back still reaches every member).
	key := p.Name + "\x00" + strings.Join(p.Addrs, ",") + "\x00" + string(roomsExt(rec))
	n.mu.Lock()
	last, seen := n.persisted[id]
	skip := !force && seen && last.key == key && n.cfg.Now().Sub(last.at) < rosterRefresh
	if !skip {
		n.persisted[id] = persisted{key: key, at: n.cfg.Now()}
	}
	n.mu.Unlock()
	if skip {
		return
	}
	n.roster.add(id, p)
}

// rosterRefresh bounds how stale a roster entry's record and last-seen time get
// while nothing the roster shows changes.
const rosterRefresh = 5 * time.Minute

// persisted is what was last written for a peer.
type persisted struct {
	key string
	at  time.Time
}

// persistAll records last-seen times of online peers at shutdown.
func (n *Node) persistAll() {
	for _, id := range n.ov.OnlinePeers() {
		n.persistPeer(id, true)
	}
}

// seedFromRoster loads the peer records saved by earlier runs, so names are known
// before peers are heard from again.
func (n *Node) seedFromRoster() {
	peers, err := n.db.Peers()
	if err != nil {
		n.log.Warn("read roster", "err", err)
		return
	}
	// The most recently seen first: the overlay never evicts the first 1,024
	// seeded records (its reserved room), and those are the likeliest contacts.
	slices.SortStableFunc(peers, func(a, b store.Peer) int { return b.LastSeen.Compare(a.LastSeen) })
	for _, p := range peers {
		if p.Record == nil || p.Blocked {
			continue
		}
		rec, err := overlay.DecodeRecord(p.Record)
		if err != nil || rec.ID().String() != p.ID {
			continue
		}
		n.ov.Seed(rec)
		// Room members as last seen, before any peer is back: a message said into
		// a room right after a restart goes to them (queued until they are
		// reachable) instead of to nobody. Their live records correct this.
		if _, err := n.rooms.UpdatePeer(rec.ID(), roomsExt(rec)); err != nil {
			n.stats.Add("rooms_ext_malformed", 1)
		}
	}
}

// maxDialDegree caps the links this node opens itself, from discovery and from the
// roster; small overlays become a full mesh, large ones stay bounded (routing
// covers the rest), with the nearest peers and a spread of others (dialOrder).
// Links others open to this node are accepted and not counted.
const maxDialDegree = 32

// reconnectLoop dials roster peers that have no link. It is how Parley finds its
// neighbours again on networks that block multicast, and how a peer learned only
// from records (its addresses are cached in the roster as soon as it is seen) gets a
// direct link. Each peer backs off from 5 s to 2 min between failed attempts.
func (n *Node) reconnectLoop(ctx context.Context) {
	backoff := map[identity.PeerID]time.Duration{}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	// The roster is decoded again only when it was written: decoding every entry
	// each pass was most of what an idle node allocated (with 50 peers, 3 MB of
	// garbage every 2 minutes, which the Go heap kept resident between collections).
	var peers []store.Peer
	read := false
	var version uint64
	for {
		if v := n.db.RosterVersion(); !read || v != version {
			if p, err := n.db.Peers(); err == nil {
				peers, version, read = p, v, true
			}
		}
		if read {
			n.reconnectOnce(ctx, peers, backoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-n.meshPoke:
			// Each pass walks the whole roster. A burst of peers coming online
			// (hundreds of throwaway identities wired into the graph, in the
			// adversarial tests) pokes once per peer; one pass per 250 ms
			// serves a burst as well as one per poke did, at a bounded cost.
			if !clockwait.Sleep(ctx, 250*time.Millisecond) {
				return
			}
		}
	}
}

func (n *Node) reconnectOnce(ctx context.Context, peers []store.Peer, backoff map[identity.PeerID]time.Duration) {
	now := n.cfg.Now()
	budget := n.dialBudget()
	if budget <= 0 {
		return
	}
	peers = n.inDialOrder(peers, budget)
	for _, p := range peers {
		id, ok := n.dialCandidate(p)
		if !ok {
			continue
		}
		// A peer that just said goodbye is not chased.
		if rec := n.ov.RecordOf(id); rec != nil && rec.Offline && time.Since(rec.Issued) < 30*time.Second {
			continue
		}
		n.mu.Lock()
		due := n.dialAfter[id]
		n.mu.Unlock()
		if now.Before(due) {
			continue
		}
		var addrs []netip.AddrPort
		for _, a := range p.Addrs {
			if ap, err := netip.ParseAddrPort(a); err == nil {
				addrs = append(addrs, ap)
			}
		}
		if !n.reserveDial() {
			return
		}
		n.mu.Lock()
		n.dialAfter[id] = now.Add(10 * time.Second) // no second attempt while this one runs
		n.mu.Unlock()
		go func() {
			defer n.releaseDial()
			err := n.ov.Dial(ctx, id, addrs)
			n.mu.Lock()
			defer n.mu.Unlock()
			if err == nil {
				backoff[id] = 0
				n.dialAfter[id] = time.Time{}
				return
			}
			b := min(max(2*backoff[id], 5*time.Second), 2*time.Minute)
			backoff[id] = b
			n.dialAfter[id] = n.cfg.Now().Add(b)
		}()
	}
}

// dialBudget is how many more links this node may open itself: maxDialDegree less
// the links it opened and the dials under way. Links others opened to it do not
// count, so every node opens its share of the overlay whatever it accepted.
func (n *Node) dialBudget() int {
	out := n.ov.OutboundCount()
	n.mu.Lock()
	defer n.mu.Unlock()
	return maxDialDegree - out - n.dialing
}

// reserveDial takes one dial from the budget; releaseDial gives it back when the
// dial ended (as a link, counted by OutboundCount, or as a failure).
func (n *Node) reserveDial() bool {
	out := n.ov.OutboundCount()
	n.mu.Lock()
	defer n.mu.Unlock()
	if out+n.dialing >= maxDialDegree {
		return false
	}
	n.dialing++
	return true
}

func (n *Node) releaseDial() {
	n.mu.Lock()
	n.dialing--
	n.mu.Unlock()
}

// inDialOrder returns peers in dialOrder when more of them could be dialled than
// the budget allows; otherwise all will be dialled and the order does not matter,
// so the records are not decoded (an idle node runs this every 2 s).
func (n *Node) inDialOrder(peers []store.Peer, budget int) []store.Peer {
	dialable := 0
	for _, p := range peers {
		if _, ok := n.dialCandidate(p); ok {
			dialable++
		}
	}
	if dialable <= budget {
		return peers
	}
	self := n.qual.Coord()
	return dialOrder(n.id.ID, self, peers, func(id identity.PeerID) (vivaldi.Coord, bool) {
		m, ok := published(n.ov.RecordOf(id))
		return m.Coord, ok
	})
}

// dialCandidate reports whether p is a roster peer this node could open a link
// to: it has addresses, is not blocked, is not this node and has no link yet.
func (n *Node) dialCandidate(p store.Peer) (identity.PeerID, bool) {
	if len(p.Addrs) == 0 || p.Blocked {
		return identity.PeerID{}, false
	}
	id, err := identity.ParsePeerID(p.ID)
	if err != nil || id == n.id.ID || n.ov.Linked(id) || n.siblingGuest(id) {
		return identity.PeerID{}, false
	}
	return id, true
}
