package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Peer is the roster entry of a peer ever seen. The public key is pinned: the peer ID
// is its hash, so a different key is by construction a different peer.
type Peer struct {
	ID        string    `json:"id"`
	PubKey    []byte    `json:"pubkey"`
	Name      string    `json:"name"`
	Record    []byte    `json:"record,omitempty"` // last signed peer record
	Addrs     []string  `json:"addrs,omitempty"`  // last known link addresses, best first
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Verified: the user compared safety numbers with this peer. Blocked: no
	// links, records or messages from it. Only SetTrust changes them.
	Verified bool `json:"verified,omitempty"`
	Blocked  bool `json:"blocked,omitempty"`
}

// maxCachedAddrs bounds the per-peer address cache.
const maxCachedAddrs = 16

// PutPeer merges p into the roster: FirstSeen is kept, addresses are merged newest
// first, and empty fields do not erase known ones.
func (d *DB) PutPeer(p Peer) error {
	if err := d.PutPeers([]Peer{p}); err != nil {
		return fmt.Errorf("store: put peer %s: %w", p.ID, err)
	}
	return nil
}

// PutPeers merges every entry of ps as PutPeer does, in one transaction: one
// fsync for a burst of peers coming online (a network joined, or a flood of
// wired throwaway identities) instead of one each.
func (d *DB) PutPeers(ps []Peer) error {
	if len(ps) == 0 {
		return nil
	}
	defer d.roster.Add(1)
	err := d.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRoster)
		for _, p := range ps {
			if v := b.Get([]byte(p.ID)); v != nil {
				var old Peer
				if json.Unmarshal(v, &old) == nil {
					p = MergePeer(old, p)
				}
			}
			v, err := json.Marshal(p)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(p.ID), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: put %d peers: %w", len(ps), err)
	}
	return nil
}

// MergePeer is what the roster keeps of an entry old updated by p: p's fields
// where set, old's trust, earliest first and latest last sighting, both
// address lists (p's first, at most maxCachedAddrs).
func MergePeer(old, p Peer) Peer {
	p.Verified, p.Blocked = old.Verified, old.Blocked
	if !old.FirstSeen.IsZero() && (p.FirstSeen.IsZero() || old.FirstSeen.Before(p.FirstSeen)) {
		p.FirstSeen = old.FirstSeen
	}
	if p.LastSeen.Before(old.LastSeen) {
		p.LastSeen = old.LastSeen
	}
	if p.PubKey == nil {
		p.PubKey = old.PubKey
	}
	if p.Name == "" {
		p.Name = old.Name
	}
	if p.Record == nil {
		p.Record = old.Record
	}
	addrs := slices.Clone(p.Addrs)
	for _, a := range old.Addrs {
		if !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) > maxCachedAddrs {
		addrs = addrs[:maxCachedAddrs]
	}
	p.Addrs = addrs
	return p
}

// GetPeer reads one roster entry.
func (d *DB) GetPeer(id string) (Peer, bool, error) {
	var p Peer
	var ok bool
	err := d.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRoster).Get([]byte(id))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &p)
	})
	return p, ok, err
}

// Peers lists the whole roster.
//
// A caller that reads the roster periodically compares RosterVersion instead of
// decoding every entry again.
func (d *DB) Peers() ([]Peer, error) {
	var out []Peer
	err := d.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRoster).ForEach(func(_, v []byte) error {
			var p Peer
			if err := json.Unmarshal(v, &p); err != nil {
				return nil // one bad entry must not hide the rest
			}
			out = append(out, p)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: list roster: %w", err)
	}
	return out, nil
}

// RosterVersion changes after every write to the roster (it counts attempts, so it
// may change without a change of content). Read it before Peers: a roster read
// after the version was taken is at least as new as that version.
func (d *DB) RosterVersion() uint64 { return d.roster.Load() }

// SetTrust marks a peer verified and/or blocked (nil leaves a flag as it is),
// creating the roster entry if the peer was never seen (blocking by ID).
func (d *DB) SetTrust(id string, verified, blocked *bool) (Peer, error) {
	var p Peer
	defer d.roster.Add(1)
	err := d.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRoster)
		if v := b.Get([]byte(id)); v != nil {
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
		}
		p.ID = id
		if verified != nil {
			p.Verified = *verified
		}
		if blocked != nil {
			p.Blocked = *blocked
		}
		v, err := json.Marshal(p)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), v)
	})
	if err != nil {
		return p, fmt.Errorf("store: set trust of %s: %w", id, err)
	}
	return p, nil
}
