package node

import (
	"fmt"
	"strings"
	"sync"

	"parley/identity"
	"parley/overlay"
)

// trust holds what the user decided about peers (verified, blocked) and spots
// a known display name turning up with a new key. Peer IDs are hashes of keys,
// so a key is pinned to its ID by construction; what can change is which key
// a *name* belongs to, and that is what people notice.
type trust struct {
	mu      sync.RWMutex
	blocked map[identity.PeerID]bool
	// names maps a folded display name to the IDs seen using it.
	names map[string]map[identity.PeerID]bool
	// warned records the IDs a key_changed event was raised for.
	warned map[identity.PeerID]bool
}

func foldName(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// loadTrust reads blocked peers and known names from the roster.
func (n *Node) loadTrust() error {
	t := &trust{blocked: map[identity.PeerID]bool{}, names: map[string]map[identity.PeerID]bool{}, warned: map[identity.PeerID]bool{}}
	peers, err := n.db.Peers()
	if err != nil {
		return err
	}
	for _, p := range peers {
		id, err := identity.ParsePeerID(p.ID)
		if err != nil {
			continue
		}
		if p.Blocked {
			t.blocked[id] = true
		}
		t.noteName(id, p.Name)
	}
	n.trust = t
	return nil
}

func (t *trust) isBlocked(id identity.PeerID) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.blocked[id]
}

func (t *trust) noteName(id identity.PeerID, name string) {
	k := foldName(name)
	if k == "" {
		return
	}
	if t.names[k] == nil {
		t.names[k] = map[identity.PeerID]bool{}
	}
	t.names[k][id] = true
}

// sameName returns the other IDs known under id's name, the first time id is
// seen with a name that already belongs to someone else.
func (t *trust) sameName(id identity.PeerID, name string) []identity.PeerID {
	k := foldName(name)
	if k == "" {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var others []identity.PeerID
	for other := range t.names[k] {
		if other != id {
			others = append(others, other)
		}
	}
	t.noteName(id, name)
	if len(others) == 0 || t.warned[id] {
		return nil
	}
	t.warned[id] = true
	return others
}

// checkKey raises key_changed when rec's author uses a name that a different
// key (a different peer ID) used before.
func (n *Node) checkKey(id identity.PeerID, rec *overlay.Record) {
	if rec == nil {
		return
	}
	others := n.trust.sameName(id, rec.Name)
	if len(others) == 0 {
		return
	}
	ev := KeyChanged{Name: rec.Name, Peer: id.String(), Fingerprint: identity.Fingerprint(rec.PubKey)}
	for _, o := range others {
		ev.Previous = append(ev.Previous, o.String())
		if p, ok, _ := n.db.GetPeer(o.String()); ok && p.Verified {
			ev.PreviousVerified = true
		}
	}
	n.log.Warn("a known name appeared with a new key", "name", rec.Name, "peer", id.Short())
	n.emit(ev)
}

// SetVerified records that the user compared safety numbers with peer (or
// withdraws it).
func (n *Node) SetVerified(peer string, on bool) (PeerView, error) {
	id, err := identity.ParsePeerID(peer)
	if err != nil {
		return PeerView{}, fmt.Errorf("verify: %w", err)
	}
	if _, err := n.db.SetTrust(id.String(), &on, nil); err != nil {
		return PeerView{}, err
	}
	return n.peerView(id), nil
}

// Block cuts a peer off (no link, its records and messages ignored), or lets
// it back; the choice is kept in the roster.
func (n *Node) Block(peer string, on bool) (PeerView, error) {
	id, err := identity.ParsePeerID(peer)
	if err != nil {
		return PeerView{}, fmt.Errorf("block: %w", err)
	}
	if id == n.id.ID {
		return PeerView{}, fmt.Errorf("block: that is this node")
	}
	if _, err := n.db.SetTrust(id.String(), nil, &on); err != nil {
		return PeerView{}, err
	}
	n.trust.mu.Lock()
	if on {
		n.trust.blocked[id] = true
	} else {
		delete(n.trust.blocked, id)
	}
	n.trust.mu.Unlock()
	if on {
		n.calls.PeerGone(id)
		n.ov.Forget(id)
	} else {
		select { // try to reach it again now
		case n.meshPoke <- struct{}{}:
		default:
		}
	}
	return n.peerView(id), nil
}
