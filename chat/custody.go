package chat

import (
	"errors"
	"fmt"
	"time"

	"parley/identity"
	"parley/internal/courier"
	"parley/internal/seal"
	"parley/internal/wire"
	"parley/store"
)

// Custody: when a recipient is away, the sender also hands the message, sealed to the
// recipient, to one online neighbour (the custodian). If the recipient returns while
// the sender is gone, the custodian hands it over. The custodian cannot read or alter
// it (the envelope is encrypted to the recipient and signed by the sender); the
// recipient stores it under the sender's ID, deduplicated like any retransmission,
// and tells the custodian to drop it.
//
// Frames (integers big-endian):
//
//	type 20  custody       [recipient ID 16][expires, unix ms u64][message ID bytes8][envelope]
//	type 21  custody_ack   [message ID bytes8]: the custodian stored it
//	type 22  handover      [message ID bytes8][envelope]: custodian → recipient
//	type 23  handover_done [message ID bytes8]: recipient → custodian, drop it
//
// Frames 20 and 21 travel only over direct links; 22 and 23 are sealed when routed.
const (
	TypeCustody      = wire.FrameChatCustody
	TypeCustodyAck   = wire.FrameChatCustodyAck
	TypeHandover     = wire.FrameChatHandover
	TypeHandoverDone = wire.FrameChatHandoverDone
)

// Custody limits: what one node holds for others, and for how long.
var (
	CustodyTTL    = 7 * 24 * time.Hour
	CustodyLimits = store.CustodyLimits{MaxEntries: 2000, MaxBytes: 16 << 20, MaxPerSender: 500}
)

// custodyRate and custodyBurst are one link's budget of custody requests:
// an outbox that entrusts everything it queued for an absent peer at once
// sends at most one request per queued message, and the per-sender cap
// (MaxPerSender) is the most that can usefully arrive in one go.
const (
	custodyRate  = 20
	custodyBurst = 500
)

// Custodians picks the neighbours that may hold a message for an absent peer.
type Custodians interface {
	// Custodian returns a directly linked, online peer other than skip, if any.
	Custodian(skip identity.PeerID) (identity.PeerID, bool)
}

// entrust hands a queued message to a custodian (best effort: the sender's own
// outbox keeps it anyway).
func (s *Service) entrust(e store.OutboxEntry) {
	if s.cfg.Custodians == nil || e.Kind != TypeMessage {
		return
	}
	to, err := identity.ParsePeerID(e.To)
	if err != nil {
		return
	}
	holder, ok := s.cfg.Custodians.Custodian(to)
	if !ok {
		return
	}
	// Sealed as the courier would route it, so the hand-over opens like any
	// sealed chat frame.
	env, err := s.courier.Seal(to, append([]byte{TypeMessage}, e.Payload...))
	if err != nil {
		return
	}
	frame := EncodeCustody(CustodyFrame{To: to, Expires: s.cfg.Now().Add(CustodyTTL), ID: e.ID, Envelope: env})
	if err := s.cfg.Net.Send(holder, TypeCustody, frame); err == nil {
		s.cfg.Stats.Add("custody_entrusted", 1)
		s.awaitCustodyAck(e.ID, holder, s.cfg.Now())
	}
}

// CustodyFrame is a decoded custody request.
type CustodyFrame struct {
	To       identity.PeerID
	Expires  time.Time
	ID       string
	Envelope []byte
}

// EncodeCustody encodes a custody request.
func EncodeCustody(f CustodyFrame) []byte {
	var w wire.Writer
	w.Raw(f.To[:])
	w.U64(uint64(f.Expires.UnixMilli()))
	w.Str8(f.ID)
	w.Raw(f.Envelope)
	return w.B
}

// DecodeCustody parses a custody request (the envelope is checked separately).
func DecodeCustody(p []byte) (CustodyFrame, error) {
	r := wire.NewReader(p)
	var f CustodyFrame
	copy(f.To[:], r.Raw(identity.IDLen))
	f.Expires = time.UnixMilli(int64(r.U64()))
	f.ID = r.Str8()
	f.Envelope = r.B
	switch {
	case r.Err != nil:
		return CustodyFrame{}, fmt.Errorf("custody frame: %w", r.Err)
	case f.ID == "" || f.To.IsZero() || len(f.Envelope) == 0:
		return CustodyFrame{}, errors.New("custody frame: empty id, recipient or envelope")
	}
	return f, nil
}

// DecodeHandover parses a handover frame: [message ID bytes8][envelope].
func DecodeHandover(p []byte) (id string, env []byte, err error) {
	r := wire.NewReader(p)
	id = r.Str8()
	if r.Err != nil || id == "" || r.Len() == 0 {
		return "", nil, errors.New("handover frame: malformed")
	}
	return id, r.B, nil
}

// handleCustody runs on the custodian: keep the envelope within the limits.
func (s *Service) handleCustody(from identity.PeerID, payload []byte) {
	// Checked before anything is decoded or stored: a link's budget (each
	// request costs a write transaction) and the sender's standing (a peer with
	// no record cannot have a recipient it knows of, see handleSealed).
	if !s.custody.allow(bucketKey{via: from, src: from}) {
		s.cfg.Stats.Add("custody_drop_rate", 1)
		return
	}
	if !s.known(from) {
		s.cfg.Stats.Add("custody_drop_unknown_sender", 1)
		return
	}
	f, err := DecodeCustody(payload)
	if err != nil {
		s.cfg.Stats.Add("custody_drop_malformed", 1)
		return
	}
	to, expires, id, env := f.To, f.Expires, f.ID, f.Envelope
	// Only a genuine envelope from the peer handing it over, for the named recipient,
	// is kept: nobody can park junk or someone else's mail here.
	sender, recipient, err := seal.Inspect(env)
	if err != nil || sender != from || recipient != to {
		s.cfg.Stats.Add("custody_drop_invalid", 1)
		return
	}
	now := s.cfg.Now()
	if limit := now.Add(CustodyTTL); expires.After(limit) {
		expires = limit
	}
	evicted, err := s.cfg.DB.PutHeld(store.Held{ID: id, From: from.String(), To: to.String(), Envelope: env, Expires: expires}, CustodyLimits, now)
	s.cfg.Stats.Add("custody_evicted", uint64(evicted))
	if errors.Is(err, store.ErrCustodyFull) {
		s.cfg.Stats.Add("custody_refused_full", 1)
		return
	}
	if err != nil {
		s.cfg.Log.Warn("custody store", "err", err)
		return
	}
	s.cfg.Stats.Add("custody_held", 1)
	var w wire.Writer
	w.Str8(id)
	s.cfg.Net.Send(from, TypeCustodyAck, w.B)
	if s.cfg.Net.Online(to) {
		s.handOver(to)
	}
}

func (s *Service) handleCustodyAck(from identity.PeerID, payload []byte) {
	r := wire.NewReader(payload)
	if id := r.Str8(); r.Err == nil && id != "" {
		s.cfg.Stats.Add("custody_acked", 1)
		s.custodyAcked(from, id)
	}
}

// handOver gives a returning peer what this node holds for it.
func (s *Service) handOver(to identity.PeerID) {
	held, err := s.cfg.DB.HeldFor(to.String(), s.cfg.Now())
	if err != nil {
		return
	}
	for _, h := range held {
		var w wire.Writer
		w.Str8(h.ID)
		w.Raw(h.Envelope)
		if s.transmit(to, TypeHandover, w.B) {
			s.cfg.Stats.Add("custody_handed_over", 1)
		}
	}
}

// handleHandover runs on the recipient: the inner envelope must be from its author
// to us, and passes the same checks as any sealed frame (courier.Open with no
// routed source, so no mismatch: the author's block, the link's budget, the
// author's standing); the message is then processed as if the author had sent it. own says the custodian handed it over on its own link:
// then it may wait for room like the custodian's own frames (stalling only that
// link), so a full store handed over at once is not dropped in part; carried by
// anyone else it never blocks (inbound.go).
func (s *Service) handleHandover(via, holder identity.PeerID, payload []byte, own bool) {
	id, env, err := DecodeHandover(payload)
	if err != nil {
		s.cfg.Stats.Add("custody_drop_malformed", 1)
		return
	}
	f, err := s.courier.OpenFrame(via, identity.PeerID{}, env)
	switch {
	case errors.Is(err, courier.ErrBlocked):
		// Dropped (chat_drop_blocked), and the custodian is told it may drop its
		// copy too: otherwise it would hand it over again at every reconnection
		// until it expires.
		s.handoverDone(holder, id)
		return
	case err != nil:
		return // counted by the courier or admitSender
	case f.Type != TypeMessage:
		s.cfg.Stats.Add("chat_drop_malformed", 1)
		return
	}
	author := f.Sender
	// The ID that counts is the one inside the seal (the author signed it); the
	// custodian's copy outside must match it.
	b, err := DecodeBody(f.Body)
	if err != nil || b.ID != id {
		s.cfg.Stats.Add("chat_drop_malformed", 1)
		return
	}
	s.cfg.Stats.Add("custody_received", 1)
	s.enqueueInbound(inbound{from: author, typ: TypeMessage, body: b, holder: holder, handedOver: true}, own)
}

// handoverDone tells a custodian that a message it handed over is committed here,
// so it may delete its copy.
func (s *Service) handoverDone(holder identity.PeerID, id string) {
	var w wire.Writer
	w.Str8(id)
	s.transmit(holder, TypeHandoverDone, w.B)
}

func (s *Service) handleHandoverDone(from identity.PeerID, payload []byte) {
	r := wire.NewReader(payload)
	id := r.Str8()
	if r.Err != nil || id == "" {
		return
	}
	if ok, _ := s.cfg.DB.DeleteHeld(from.String(), id); ok {
		s.cfg.Stats.Add("custody_released", 1)
	}
}
