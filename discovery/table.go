package discovery

import (
	"crypto/ed25519"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"parley/identity"
)

// Source names where a sighting came from.
type Source string

const (
	SourceBeacon Source = "beacon"
	SourceMDNS   Source = "mdns"
)

// Sighting is one observation of a peer by one source.
type Sighting struct {
	ID      identity.PeerID
	PubKey  ed25519.PublicKey // nil when the source does not carry it (mDNS)
	Addr    netip.AddrPort    // where its link listener is
	Source  Source
	Name    string
	Seq     uint64 // beacon sequence; 0 for sources without one
	Goodbye bool
}

// Addr is one address of a neighbour with the source and time it was last confirmed.
type Addr struct {
	AddrPort netip.AddrPort
	Source   Source
	Seen     time.Time
}

// Neighbour is the merged view of one peer.
type Neighbour struct {
	ID        identity.PeerID
	PubKey    ed25519.PublicKey
	Name      string
	Addrs     []Addr
	FirstSeen time.Time
	LastSeen  time.Time
	lastSeq   uint64
}

// Sources lists the distinct sources that currently vouch for the neighbour.
func (n Neighbour) Sources() []Source {
	var out []Source
	for _, a := range n.Addrs {
		if !slices.Contains(out, a.Source) {
			out = append(out, a.Source)
		}
	}
	return out
}

// Outcome tells the caller what Observe did with a sighting.
type Outcome int

const (
	Ignored   Outcome = iota // nothing new (refresh of a known address)
	Added                    // first sighting of this peer
	Updated                  // new address or source for a known peer
	Departed                 // goodbye: the peer was removed
	Replayed                 // beacon sequence below the last seen: dropped
	Duplicate                // same sequence again (the IPv4 and IPv6 copies of one beacon)
	Full                     // table at capacity: dropped
)

// MaxNeighbourAddrs bounds the addresses kept per neighbour. A beacon's address is
// its source IP with the port it announces, so a neighbour announcing a new port
// (or sending from a new IPv6 address) in every beacon grew its list by one per
// beacon for as long as the TTL kept them (issue 16). 16 is what a peer record may
// list (overlay's maxAddrs), one per source; an honest peer has a few (an IPv4
// and one or two IPv6 addresses per interface). When a new address would pass the
// bound, the one confirmed longest ago goes (neighbour_addr_evicted).
const MaxNeighbourAddrs = 16

// Table merges sightings from all sources by peer ID and forgets addresses that are
// not refreshed within the TTL. It is bounded so that a flood of invented peers costs
// a fixed amount of memory.
type Table struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	now     func() time.Time
	entries map[identity.PeerID]*Neighbour
	// departed remembers the goodbye sequence of peers that left, for one TTL, so a
	// delayed copy of an earlier announce (the other address family's socket, a
	// beacon already in flight) cannot bring a departed peer back.
	departed map[identity.PeerID]departure
	// evicted counts addresses dropped for MaxNeighbourAddrs.
	evicted atomic.Uint64
}

type departure struct {
	seq uint64
	at  time.Time
}

// NewTable makes a table; now is injectable for tests (nil means time.Now).
func NewTable(ttl time.Duration, max int, now func() time.Time) *Table {
	if now == nil {
		now = time.Now
	}
	return &Table{ttl: ttl, max: max, now: now, entries: map[identity.PeerID]*Neighbour{}, departed: map[identity.PeerID]departure{}}
}

// Observe merges a sighting.
func (t *Table) Observe(s Sighting) Outcome {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	n, ok := t.entries[s.ID]
	if d, left := t.departed[s.ID]; !ok && left && s.Seq != 0 {
		switch {
		case s.Seq == d.seq:
			return Duplicate
		case s.Seq < d.seq:
			return Replayed
		}
		delete(t.departed, s.ID)
	}
	if ok && s.Seq != 0 {
		switch {
		case s.Seq == n.lastSeq:
			return Duplicate
		case s.Seq < n.lastSeq:
			return Replayed
		}
		n.lastSeq = s.Seq
	}
	if s.Goodbye {
		if s.Seq != 0 && len(t.departed) < t.max {
			t.departed[s.ID] = departure{seq: s.Seq, at: now}
		}
		if !ok {
			return Ignored
		}
		delete(t.entries, s.ID)
		return Departed
	}
	if !ok {
		if len(t.entries) >= t.max {
			return Full
		}
		n = &Neighbour{ID: s.ID, FirstSeen: now, lastSeq: s.Seq}
		t.entries[s.ID] = n
	}
	n.LastSeen = now
	if s.PubKey != nil {
		n.PubKey = s.PubKey
	}
	if s.Name != "" {
		n.Name = s.Name
	}
	for i := range n.Addrs {
		if n.Addrs[i].AddrPort == s.Addr && n.Addrs[i].Source == s.Source {
			n.Addrs[i].Seen = now
			if !ok {
				return Added
			}
			return Ignored
		}
	}
	if len(n.Addrs) >= MaxNeighbourAddrs {
		oldest := 0
		for i, a := range n.Addrs {
			if a.Seen.Before(n.Addrs[oldest].Seen) {
				oldest = i
			}
		}
		n.Addrs = slices.Delete(n.Addrs, oldest, oldest+1)
		t.evicted.Add(1)
	}
	n.Addrs = append(n.Addrs, Addr{AddrPort: s.Addr, Source: s.Source, Seen: now})
	if !ok {
		return Added
	}
	return Updated
}

// Expire drops addresses older than the TTL and returns the peers left with none.
func (t *Table) Expire() []identity.PeerID {
	t.mu.Lock()
	defer t.mu.Unlock()
	cutoff := t.now().Add(-t.ttl)
	var gone []identity.PeerID
	for id, n := range t.entries {
		n.Addrs = slices.DeleteFunc(n.Addrs, func(a Addr) bool { return a.Seen.Before(cutoff) })
		if len(n.Addrs) == 0 {
			delete(t.entries, id)
			gone = append(gone, id)
		}
	}
	for id, d := range t.departed {
		if d.at.Before(cutoff) {
			delete(t.departed, id)
		}
	}
	return gone
}

// Get returns a copy of one neighbour.
func (t *Table) Get(id identity.PeerID) (Neighbour, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, ok := t.entries[id]
	if !ok {
		return Neighbour{}, false
	}
	c := *n
	c.Addrs = slices.Clone(n.Addrs)
	return c, true
}

// List returns copies of all neighbours.
func (t *Table) List() []Neighbour {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Neighbour, 0, len(t.entries))
	for _, n := range t.entries {
		c := *n
		c.Addrs = slices.Clone(n.Addrs)
		out = append(out, c)
	}
	return out
}

// Evicted is how many addresses were dropped for MaxNeighbourAddrs.
func (t *Table) Evicted() uint64 { return t.evicted.Load() }

// SetTTL changes how long an address is kept without a refresh.
func (t *Table) SetTTL(d time.Duration) {
	t.mu.Lock()
	t.ttl = d
	t.mu.Unlock()
}

// Len is the number of neighbours.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}
