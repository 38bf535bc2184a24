package files

import (
	"fmt"
	"time"

	"parley/identity"
	"parley/internal/courier"
	"parley/store"
)

// sealedNames are the files counters on the shared secure-send path; a chunk
// or control frame that cannot be sealed or routed is files_send_unreachable.
var sealedNames = courier.Counters{
	Blocked: "files_drop_blocked", Unsealable: "files_drop_unsealable", Mismatch: "files_drop_sender",
	Malformed: "files_drop_malformed", SealedSent: "files_sealed_sent",
	RouteFailed: "files_send_unreachable", Unreachable: "files_send_unreachable",
}

// outMsg is a control frame decided under the lock and sent after it.
type outMsg struct {
	to   identity.PeerID
	typ  uint8
	body []byte
}

// unlockAndSend releases s.mu and sends what was decided under it. Chunk
// requests must reach a source in the order their sequence numbers were
// assigned (losses are inferred from that order), so the send lock is taken
// before s.mu is released: whoever assigned numbers first, sends first.
func (s *Service) unlockAndSend(msgs []outMsg) {
	s.sendMu.Lock()
	s.mu.Unlock()
	defer s.sendMu.Unlock()
	s.sendAll(msgs)
}

func (s *Service) sendAll(msgs []outMsg) {
	for _, m := range msgs {
		s.sendControl(m.to, m.typ, m.body)
	}
}

// sendControl sends a control frame on the shared secure-send path (package
// internal/courier): plain over a direct link (TLS protects it), sealed to the
// recipient when it must be routed through other peers.
func (s *Service) sendControl(to identity.PeerID, typ uint8, body []byte) bool {
	return s.courier.Send(to, typ, body) == nil
}

// HandleDirect returns the handler for frames of typ from a direct neighbour.
func (s *Service) HandleDirect(typ uint8) func(identity.PeerID, []byte) {
	return func(from identity.PeerID, payload []byte) { s.handle(from, typ, payload) }
}

// HandleRouted receives a sealed frame routed through other peers; the source
// that counts is the envelope's signer, and a routing header that names
// someone else drops the frame (handle).
func (s *Service) HandleRouted(typ uint8) func(src, via identity.PeerID, payload []byte) {
	return func(src, _ identity.PeerID, payload []byte) {
		if typ != TypeSealed && typ != TypeSealedChunk {
			s.count("files_drop_unsealed_routed")
			return
		}
		s.handle(src, typ, payload)
	}
}

// handle takes a frame from a link peer or a routed source (from). Envelopes
// are opened by the courier under the one policy of package internal/courier
// (docs/security.md, "The sealed sender decides"): a sealed frame is from its
// sealed sender; file frames are courier.Live, so one whose sealed sender is
// not from is dropped (files_drop_sender): only store-and-forward kinds (chat,
// custody) may arrive from someone other than their author. Nothing a blocked
// peer sends or signs is taken (files_drop_blocked), whatever the path.
func (s *Service) handle(from identity.PeerID, typ uint8, payload []byte) {
	switch typ {
	case TypeSealed:
		f, err := s.courier.OpenFrame(from, from, payload)
		if err != nil {
			return // counted by the courier
		}
		typ, payload = f.Type, f.Body
	case TypeSealedChunk:
		if f, err := s.courier.Open(from, from, payload); err == nil {
			s.handleChunk(from, f.Body, false)
		}
		return
	default:
		if s.courier.Refused(from) { // files_drop_blocked
			return
		}
		if typ == TypeChunk {
			s.handleChunk(from, payload, true) // the overlay's frame, ours to recycle
			return
		}
	}
	var err error
	switch typ {
	case TypeOffer:
		err = s.handleOffer(from, payload)
	case TypeAnswer:
		err = s.handleAnswer(from, payload)
	case TypeQuery:
		err = s.handleQuery(from, payload)
	case TypeHave:
		err = s.handleHave(from, payload)
	case TypeReq:
		err = s.handleRequest(from, payload)
	default:
		err = fmt.Errorf("unexpected frame type %d", typ)
	}
	if err != nil {
		s.count("files_drop_malformed")
		s.cfg.Log.Debug("file frame dropped", "from", from.Short(), "type", typ, "err", err)
	}
}

// Bounds on offers waiting for an answer, so a peer cannot fill our memory or
// store: counts, and bytes of manifest (a 4 GiB file's is 512 KiB).
const (
	maxPendingPerPeer      = 64
	maxPending             = 1024
	maxPendingBytesPerPeer = 16 << 20
	maxPendingBytes        = 64 << 20
)

func (s *Service) handleOffer(from identity.PeerID, raw []byte) error {
	o, err := DecodeOffer(raw)
	if err != nil {
		return err
	}
	if o.From() != from {
		return fmt.Errorf("offer signed by %s arrived from %s", o.From().Short(), from.Short())
	}
	// The user sees the name before anything is saved: show the one it would
	// be saved under, without bidi or other format characters (SafeName).
	if o.Name, err = SafeName(o.Name); err != nil {
		return err
	}
	if o.Room != "" && !s.cfg.Rooms.Joined(o.Room) || o.Room == "" && o.Peer != s.self {
		s.count("files_offer_not_for_us")
		return nil
	}
	s.mu.Lock()
	if x := s.xfers[o.ID]; x != nil {
		// A repeat: the sender missed our answer; give it again.
		v := map[string]uint8{StateActive: VerdictAccept, StateDeclined: VerdictDecline, StateCancelled: VerdictCancel, StateFailed: VerdictCancel, StateDone: VerdictDone}[x.rec.State]
		s.mu.Unlock()
		if v != 0 && !x.rec.Out && x.offer.Root == o.Root {
			s.sendControl(from, TypeAnswer, EncodeAnswer(Answer{ID: o.ID, Verdict: v}))
		}
		return nil
	}
	pending, fromPeer := 0, 0
	bytes, fromBytes := len(raw), len(raw)
	for _, x := range s.xfers {
		if !x.rec.Out && x.rec.State == StateOffered {
			n := len(x.offer.Chunks) * HashLen
			pending++
			bytes += n
			if x.offer.From() == from {
				fromPeer++
				fromBytes += n
			}
		}
	}
	if pending >= maxPending || fromPeer >= maxPendingPerPeer || bytes > maxPendingBytes || fromBytes > maxPendingBytesPerPeer {
		s.mu.Unlock()
		s.count("files_offer_dropped_limit")
		return nil
	}
	now := s.cfg.Now()
	rec := store.Transfer{ID: o.ID.String(), Peer: from.String(), Room: o.Room, State: StateOffered, Created: now, Updated: now, Offer: raw}
	if err := s.cfg.Store.PutTransfer(rec); err != nil {
		s.mu.Unlock()
		return err
	}
	rec.Offer = nil
	s.xfers[o.ID] = &xfer{rec: rec, offer: o, sentTo: map[identity.PeerID]time.Time{}}
	s.mu.Unlock()
	s.count("files_offers_received")
	s.emit(Offered{ID: rec.ID, Name: o.Name, MediaType: o.MediaType, From: from.String(), Room: o.Room, Size: o.Size})
	return nil
}

func (s *Service) handleAnswer(from identity.PeerID, b []byte) error {
	a, err := DecodeAnswer(b)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.xfers[a.ID]
	if x == nil {
		return nil
	}
	if !x.rec.Out {
		// Only the offerer can take back its offer.
		if a.Verdict == VerdictCancel && from == x.offer.From() {
			s.senderCancelled(x)
		}
		return nil
	}
	if x.offer.Room == "" && from != x.offer.Peer {
		return fmt.Errorf("answer for %s from a peer it was not offered to", a.ID)
	}
	x.answered = true
	if x.offer.Room != "" || x.rec.State != StateOffered && x.rec.State != StateActive {
		return nil // a room offer stays open for every member
	}
	switch a.Verdict {
	case VerdictAccept:
		x.rec.State = StateActive
		s.saveLocked(x)
	case VerdictDone:
		x.rec.State = StateDone
		s.saveLocked(x)
		s.emit(Done{ID: x.rec.ID, Path: x.rec.Path, Hash: x.offer.Root.String(), Out: true})
	case VerdictDecline:
		s.endLocked(x, StateDeclined, "declined")
		s.emit(Failed{ID: x.rec.ID, Reason: "declined", Out: true})
	case VerdictCancel:
		s.endLocked(x, StateCancelled, "cancelled by the recipient")
		s.emit(Failed{ID: x.rec.ID, Reason: "cancelled by the recipient", Out: true})
	}
	return nil
}

// senderCancelled: the offerer withdrew. A 1:1 offer ends; a room download goes
// on from the other members that hold the file.
func (s *Service) senderCancelled(x *xfer) {
	switch {
	case x.rec.State == StateOffered || x.rec.State == StateActive && x.offer.Room == "":
		s.endLocked(x, StateCancelled, "cancelled by the sender")
		s.emit(Failed{ID: x.rec.ID, Reason: "cancelled by the sender"})
	case x.dl != nil:
		if src := x.dl.sources[x.offer.From()]; src != nil {
			s.dropSource(x.dl, src)
		}
	}
}

// handleQuery answers "do you have this file?" when we could serve it to the
// asker.
func (s *Service) handleQuery(from identity.PeerID, b []byte) error {
	root, err := DecodeRoot(b)
	if err != nil {
		return err
	}
	s.mu.Lock()
	_, ok := s.seedFor(root, from)
	s.mu.Unlock()
	if ok {
		s.sendControl(from, TypeHave, EncodeRoot(root))
	}
	return nil
}

// handleHave adds a source to the downloads of that file, if the source is in
// the offer's audience (a member of the room it went to) or its author.
func (s *Service) handleHave(from identity.PeerID, b []byte) error {
	root, err := DecodeRoot(b)
	if err != nil {
		return err
	}
	var out []outMsg
	s.mu.Lock()
	for _, x := range s.byRoot[root] {
		if from == x.offer.From() || x.offer.Room != "" && s.isMember(x.offer.Room, from) {
			out = append(out, s.addSource(x, from, s.cfg.Now())...)
		}
	}
	s.unlockAndSend(out)
	return nil
}

func (s *Service) isMember(room string, p identity.PeerID) bool {
	for _, m := range s.cfg.Rooms.Members(room) {
		if m == p {
			return true
		}
	}
	return false
}

// seedFor finds a file with this root that peer may fetch: one we offered to it
// (or into a room it is in), or a room file we downloaded and it is a member of.
func (s *Service) seedFor(root Hash, peer identity.PeerID) (*xfer, bool) {
	for _, x := range s.seeds[root] {
		o := x.offer
		switch {
		case o.Room != "" && s.isMember(o.Room, peer):
			return x, true
		case x.rec.Out && o.Room == "" && o.Peer == peer:
			return x, true
		}
	}
	return nil, false
}
