package node

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"

	"parley/identity"
	"parley/internal/wire"
	"parley/overlay"
	"parley/selection"
)

// The administrator's cost map, carried by the overlay (issue 22, item 5).
//
// One member is trusted to sign it: every node names that member's peer ID
// (--cost-map-signer, kept in the settings so later starts need not repeat it).
// The signer, started with --cost-map FILE, publishes the map signed with its
// identity key as RecordExtCostMap (type 8) in its own peer record, with the time
// it was issued (selection/costmapwire.go has the bytes). Every node that trusts
// the signer adopts the newest map whose key hashes to the trusted ID and whose
// signature verifies, from whichever record carries it; that map then replaces the
// node's own --cost-map file in every ranking. A map from another key, a bad
// signature, a malformed or an older one is dropped and counted
// (costmap_untrusted, costmap_bad_signature, costmap_malformed, costmap_stale).
// The key and the issue time are checked before the signature, so a peer that
// publishes forged maps costs a signature check only when it names the trusted key
// and a newer time, at most once per record it manages to publish.

const recordExtCostMap = wire.RecordExtCostMap

// settingCostMapSigner keeps the trusted signer's peer ID.
const settingCostMapSigner = "cost_map_signer"

type sharedCostMap struct {
	mu      sync.Mutex
	signer  identity.PeerID // zero: none trusted, no map is adopted
	issued  uint64          // of the adopted map (Unix ms)
	cm      *selection.CostMap
	own     []byte // this node's signed map, when it is the signer
	adopted []byte // the signed map adopted from a record
}

// setupSharedMap resolves the trusted signer (flag, else the setting; "none"
// forgets it) and, when this node is the signer and has a map, signs it.
func (n *Node) setupSharedMap(flag string) error {
	s := &n.sharedMap
	switch v := strings.TrimSpace(flag); v {
	case "":
		if v, ok, _ := n.db.Setting(settingCostMapSigner); ok {
			flag = v
		}
	case "none":
		if err := n.db.SetSetting(settingCostMapSigner, ""); err != nil {
			return err
		}
		return nil
	default:
		if _, err := identity.ParsePeerID(v); err != nil {
			return fmt.Errorf("--cost-map-signer: %w", err)
		}
		if err := n.db.SetSetting(settingCostMapSigner, v); err != nil {
			return err
		}
	}
	if flag == "" {
		return nil
	}
	id, err := identity.ParsePeerID(flag)
	if err != nil {
		return fmt.Errorf("cost map signer setting: %w", err)
	}
	s.signer = id
	if id != n.id.ID || n.costMap == nil {
		return nil
	}
	issued := uint64(n.cfg.Now().UnixMilli())
	if s.own, err = selection.EncodeSignedCostMap(n.costMap, issued, n.id); err != nil {
		return fmt.Errorf("cost map %s: %w", n.cfg.CostMap, err)
	}
	s.issued, s.cm = issued, n.costMap
	return nil
}

// costMapExtensions is the signed map this node publishes (none unless it is the
// trusted signer with a map).
func (n *Node) costMapExtensions() []overlay.Extension {
	s := &n.sharedMap
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.own == nil {
		return nil
	}
	return []overlay.Extension{{Type: recordExtCostMap, Value: s.own}}
}

// costMapNow is the map rankings use: the newest one adopted from the trusted
// signer, else this node's own file (nil: none).
func (n *Node) costMapNow() *selection.CostMap {
	s := &n.sharedMap
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cm != nil {
		return s.cm
	}
	return n.costMap
}

// noteCostMap looks at a changed record for a signed cost map.
func (n *Node) noteCostMap(carrier identity.PeerID, rec *overlay.Record) {
	v := extValue(rec, recordExtCostMap)
	if v == nil {
		return
	}
	s := &n.sharedMap
	s.mu.Lock()
	signer, issued := s.signer, s.issued
	s.mu.Unlock()
	if signer.IsZero() {
		return // nobody trusted: maps are not ours to judge, nor to count
	}
	key, at, err := selection.SignedCostMapHeader(v)
	switch {
	case err != nil:
		n.stats.Add("costmap_malformed", 1)
		return
	case identity.IDFromPublicKey(key) != signer:
		n.stats.Add("costmap_untrusted", 1)
		return
	case at <= issued:
		if at < issued || !bytes.Equal(v, n.costMapOwnOrAdopted()) {
			n.stats.Add("costmap_stale", 1)
		}
		return
	}
	m, err := selection.DecodeSignedCostMap(v)
	switch {
	case errors.Is(err, selection.ErrSignedMapSignature):
		n.stats.Add("costmap_bad_signature", 1)
		return
	case err != nil:
		n.stats.Add("costmap_malformed", 1)
		return
	case !ed25519.PublicKey(key).Equal(m.Signer):
		return // cannot happen: the header is the map's
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.Issued <= s.issued { // another record won meanwhile
		return
	}
	s.issued, s.cm, s.adopted = m.Issued, m.Map, bytes.Clone(v)
	n.stats.Add("costmap_adopted", 1)
	n.log.Info("cost map adopted", "signer", signer.Short(), "issued_ms", m.Issued, "entries", m.Map.Len(), "carrier", carrier.Short())
}

// costMapOwnOrAdopted is the encoding of the map in use (to tell a repeat of it
// from a different map with the same time).
func (n *Node) costMapOwnOrAdopted() []byte {
	s := &n.sharedMap
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.adopted != nil {
		return s.adopted
	}
	return s.own
}
