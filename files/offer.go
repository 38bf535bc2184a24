package files

import (
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"parley/identity"
	"parley/store"
)

// Making offers: hashing the files, signing the manifest, sending it to the
// audience (again to members who come online later).

func newOfferID() (OfferID, error) {
	var id OfferID
	_, err := rand.Read(id[:])
	return id, err
}

// SendFile offers files (folders are expanded to their files) to one peer or into
// a room; one offer per file. It returns the offers' IDs.
func (s *Service) SendFile(peer identity.PeerID, room string, paths ...string) ([]string, error) {
	switch {
	case room == "" && peer.IsZero():
		return nil, errors.New("send file: name a peer or a room")
	case room != "" && !peer.IsZero():
		return nil, errors.New("send file: give either a peer or a room, not both")
	case peer == s.self:
		return nil, errors.New("send file: cannot send a file to yourself")
	case room != "" && !s.cfg.Rooms.Joined(room):
		return nil, fmt.Errorf("send file: not a member of room %q", room)
	}
	list, err := expandPaths(paths, s.cfg.MaxFiles)
	if err != nil {
		return nil, fmt.Errorf("send file: %w", err)
	}
	var ids []string
	for _, p := range list {
		id, err := s.offerOne(peer, room, p)
		if err != nil {
			return ids, fmt.Errorf("send file %s: %w", p, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (s *Service) offerOne(peer identity.PeerID, room, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	size, chunk, hashes, src, err := hashFile(abs, s.racy)
	if err != nil {
		return "", err
	}
	id, err := newOfferID()
	if err != nil {
		return "", err
	}
	name, err := SafeName(filepath.Base(abs))
	if err != nil {
		return "", err
	}
	now := s.cfg.Now()
	o := &Offer{ID: id, Peer: peer, Room: room, Created: now, Name: name, MediaType: mediaType(name),
		Size: size, ChunkSize: chunk, Root: RootOf(hashes), Chunks: hashes, Author: s.cfg.Identity.Public}
	raw := SignOffer(o, s.cfg.Identity)
	rec := store.Transfer{ID: id.String(), Out: true, Room: room, State: StateOffered, Path: abs, Created: now, Updated: now, Offer: raw}
	if !peer.IsZero() {
		rec.Peer = peer.String()
	}
	if err := s.cfg.Store.PutTransfer(rec); err != nil {
		return "", err
	}
	rec.Offer = nil
	x := &xfer{rec: rec, offer: o, sentTo: map[identity.PeerID]time.Time{}, src: src}
	s.mu.Lock()
	s.xfers[id] = x
	s.addSeed(x)
	out := s.reoffer(x, now)
	s.unlockAndSend(out)
	return id.String(), nil
}

// reoffer sends an outgoing offer to its audience members that are online and
// have not had it recently (peers that come online later get it then).
func (s *Service) reoffer(x *xfer, now time.Time) []outMsg {
	if x.answered && x.offer.Room == "" {
		return nil
	}
	targets := []identity.PeerID{x.offer.Peer}
	if x.offer.Room != "" {
		targets = s.cfg.Rooms.Members(x.offer.Room)
	}
	raw := SignOffer(x.offer, s.cfg.Identity) // deterministic: Ed25519
	var out []outMsg
	for _, p := range targets {
		if p == s.self || !s.cfg.Net.Online(p) {
			continue
		}
		if last, ok := x.sentTo[p]; ok && (x.offer.Room != "" || now.Sub(last) < offerResend) {
			continue
		}
		x.sentTo[p] = now
		out = append(out, outMsg{to: p, typ: TypeOffer, body: raw})
	}
	return out
}

// offerResend is how often an unanswered 1:1 offer is sent again.
const offerResend = 10 * time.Second
