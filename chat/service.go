package chat

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/courier"
	"parley/internal/hlc"
	"parley/store"
)

// Net is what chat needs from the overlay.
type Net interface {
	Linked(id identity.PeerID) bool
	Online(id identity.PeerID) bool
	// Send uses a direct link; SendTo routes when there is none.
	Send(to identity.PeerID, typ uint8, payload []byte) error
	SendTo(to identity.PeerID, typ uint8, payload []byte) (direct bool, err error)
	// PublicKey returns a peer's identity key from its record (nil if unknown).
	PublicKey(id identity.PeerID) ed25519.PublicKey
}

// Event is what the service reports to the node: one of the types below.
type Event interface{ chatEvent() }

func (Received) chatEvent()  {}
func (Delivered) chatEvent() {}
func (ReadBy) chatEvent()    {}
func (Queued) chatEvent()    {}

// Events the service emits.
type (
	// Received is a new incoming message (1:1 or room).
	Received struct{ Message store.Message }
	// Delivered: peer To committed message ID.
	Delivered struct{ ID, To string }
	// ReadBy: peer By has read these messages of ours.
	ReadBy struct {
		IDs []string
		By  string
	}
	// Queued: a message waits in the outbox because To is not reachable now.
	Queued struct{ ID, To string }
)

// Config wires a Service.
type Config struct {
	Identity *identity.Identity
	Net      Net
	DB       *store.DB
	Clock    *hlc.Clock
	Emit     func(Event)
	Log      *slog.Logger
	Stats    *counters.Set
	// Rooms answers membership questions (rooms.go).
	Rooms *Rooms
	// RetryEvery is how often the outbox is retried for reachable peers (1 s).
	RetryEvery time.Duration
	// Custodians, when set, lets queued messages be entrusted to a neighbour.
	Custodians Custodians
	// CustodyAckWait is how long a custodian has to acknowledge a request
	// before it counts as failed (custodyfail.go; 5 s).
	CustodyAckWait time.Duration
	// Now is the wall clock (time.Now if nil): outbox times, retry pacing, the
	// frame budgets and custody expiry all read it, so a test can move it.
	Now func() time.Time
	// Blocked names the peers the user blocked: nothing they author or hand over
	// is accepted, however it arrives (nil: nobody is blocked).
	Blocked func(identity.PeerID) bool
	// Known says whether a peer may author chat frames here: one this node has a
	// record or roster entry for (nil: it has a record, Net.PublicKey). See
	// handleSealed for why an unknown sender may send nothing.
	Known func(identity.PeerID) bool
	// DeferDirectAcks: a 1:1 message is committed but not acknowledged (so
	// its sender sees no "delivered" and keeps retrying) until Ack says its
	// reader took it: a SIP phone's node, whose reader is the phone (issue 19).
	DeferDirectAcks bool
}

// batchBytes bounds the text one commit carries, so a commit stays short (tens
// of milliseconds) even when every waiting message is a maximal one, and an
// honest frame waiting behind a flood is committed within a batch or two.
const batchBytes = 4 << 20

// Service sends, receives, stores and acknowledges messages.
type Service struct {
	cfg     Config
	self    identity.PeerID
	courier *courier.Courier // sends and opens sealed frames (handleSealed)
	routed  *routedLimiter

	carrier *routedLimiter // per link, before any envelope is opened (ratelimit.go)
	relayed *routedLimiter // every frame not from its author's own link (ratelimit.go)
	custody *routedLimiter // custody requests per link (custody.go)

	mu sync.Mutex
	// queues, order, next, inboundBytes and space are the inbound queues
	// (inbound.go): one per author with frames waiting, served round-robin.
	queues       map[queueKey]*peerQueue
	order        []queueKey
	next         int
	inboundBytes int
	space        chan struct{}          // closed (and replaced) when the committer frees room
	lastTry      map[string]time.Time   // outbox key → last transmission
	custodyWaits map[string]custodyWait // message ID → custodian asked (custodyfail.go)

	ready   chan struct{}
	local   chan *sendReq
	ctx     context.Context
	stopped bool // Run has returned; guarded by mu
}

var errStopped = errors.New("chat stopped")

type inbound struct {
	from identity.PeerID
	typ  uint8
	body Body     // TypeMessage
	ids  []string // TypeAck, TypeRead
	// member says whether this node had joined body.Room, decided by commit before
	// it opens the write transaction (see there).
	member bool
	// holder, when handedOver, is the custodian that handed this message over: it
	// is told (TypeHandoverDone) only after the commit, so it never deletes its
	// copy of a message we might still lose in a crash.
	holder     identity.PeerID
	handedOver bool
	bytes      int // charged against the queue bounds (inbound.go)
}

type sendReq struct {
	msg   store.Message
	to    []identity.PeerID
	kind  uint8
	frame []byte
	done  chan error
}

// sealedNames are chat's counters on the shared secure-send path.
var sealedNames = courier.Counters{
	Blocked: "chat_drop_blocked", Unsealable: "chat_drop_unsealable", Mismatch: "chat_source_mismatch",
	Malformed: "chat_drop_malformed", SealedSent: "chat_sealed_sent", RouteFailed: "chat_route_failed",
}

// New makes a Service; Run starts its committer.
func New(cfg Config) (*Service, error) {
	if cfg.RetryEvery == 0 {
		cfg.RetryEvery = time.Second
	}
	if cfg.CustodyAckWait == 0 {
		cfg.CustodyAckWait = defaultCustodyAckWait
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{
		cfg: cfg, self: cfg.Identity.ID,
		routed:  newRoutedLimiter(routedRate, routedBurst, cfg.Now),
		carrier: newRoutedLimiter(carrierRate, carrierBurst, cfg.Now),
		relayed: newRoutedLimiter(relayedRate, relayedBurst, cfg.Now),
		custody: newRoutedLimiter(custodyRate, custodyBurst, cfg.Now),
		queues:  map[queueKey]*peerQueue{},
		space:   make(chan struct{}),
		lastTry: map[string]time.Time{},
		ready:   make(chan struct{}, 1),
		local:   make(chan *sendReq, 1024),
		ctx:     context.Background(),
	}
	// Chat is store-and-forward: a relay or custodian carries someone else's
	// sealed message, so a sealed sender other than the routed source is
	// accepted as the sealed sender's (courier.Relayed); its budgets are
	// spent by the verified sealed sender before decryption (admitSender).
	var err error
	s.courier, err = courier.New(courier.Config{
		Identity: cfg.Identity, Net: cfg.Net, Sealed: TypeSealed, Inner: sealedTypes,
		Policy: courier.Relayed, Blocked: cfg.Blocked, Admit: s.admitSender,
		Stats: cfg.Stats, Names: sealedNames, Log: cfg.Log,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) emit(ev Event) {
	if s.cfg.Emit != nil {
		s.cfg.Emit(ev)
	}
}

func validText(text string) error {
	switch {
	case text == "":
		return errors.New("empty message")
	case len(text) > MaxText:
		return ErrTooLong
	case !utf8.ValidString(text):
		return errors.New("message is not valid UTF-8")
	}
	return nil
}

// Send writes a 1:1 message and returns it once it is committed locally; it is then
// transmitted, or queued (a Queued event) when the peer is not reachable.
func (s *Service) Send(to identity.PeerID, text string) (store.Message, error) {
	return s.submit(KindDirect, "", []identity.PeerID{to}, text)
}

// SendAsync is Send without waiting for the commit; the returned channel yields the
// commit's outcome. It is what lets a burst share commits (benchmarks, scripts).
func (s *Service) SendAsync(to identity.PeerID, text string) (store.Message, <-chan error) {
	req, err := s.newReq(KindDirect, "", []identity.PeerID{to}, text)
	if err != nil {
		ch := make(chan error, 1)
		ch <- err
		return store.Message{}, ch
	}
	s.enqueueLocal(req)
	return req.msg, req.done
}

func (s *Service) newReq(kind uint8, room string, to []identity.PeerID, text string) (*sendReq, error) {
	if err := validText(text); err != nil {
		return nil, err
	}
	if kind == KindDirect && to[0] == s.self {
		return nil, errors.New("cannot send a message to yourself")
	}
	ts := s.cfg.Clock.Now()
	now := ts.Time()
	m := store.Message{ID: NewID(now), From: s.self.String(), Text: text, HLC: uint64(ts), Time: now, State: store.StateSent}
	if kind == KindDirect {
		m.To = to[0].String()
		m.Conv = store.DirectConv(m.To)
	} else {
		m.Room = room
		m.Conv = store.RoomConv(room)
	}
	body := EncodeBody(Body{Kind: kind, Room: room, ID: m.ID, HLC: m.HLC, Sent: now, Text: text})
	return &sendReq{msg: m, to: to, kind: TypeMessage, frame: body, done: make(chan error, 1)}, nil
}

func (s *Service) submit(kind uint8, room string, to []identity.PeerID, text string) (store.Message, error) {
	req, err := s.newReq(kind, room, to, text)
	if err != nil {
		return store.Message{}, err
	}
	s.enqueueLocal(req)
	select {
	case err := <-req.done:
		return req.msg, err
	case <-s.context().Done():
		return req.msg, errStopped
	}
}

// context is Run's context (Background before Run); Run sets it concurrently with
// callers, so it is read under mu.
func (s *Service) context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx
}

// enqueueLocal hands a request to the committer. Every request's done channel gets
// exactly one value, also when the service stops: a request queued after Run drained
// the queue on its way out is failed here.
func (s *Service) enqueueLocal(req *sendReq) {
	select {
	case s.local <- req:
	case <-s.context().Done():
		req.done <- errStopped
		return
	}
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		s.failLocal()
	}
}

// failLocal fails the requests no committer will take any more.
func (s *Service) failLocal() {
	for {
		select {
		case r := <-s.local:
			r.done <- errStopped
		default:
			return
		}
	}
}

// Run serves the committer and the retry loop until ctx ends.
func (s *Service) Run(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	go s.retryLoop(ctx)
	for {
		var reqs []*sendReq
		select {
		case <-ctx.Done():
			s.mu.Lock()
			s.stopped = true
			s.mu.Unlock()
			s.failLocal()
			return
		case <-s.ready:
		case r := <-s.local:
			reqs = append(reqs, r)
		}
		for len(reqs) < 2048 {
			select {
			case r := <-s.local:
				reqs = append(reqs, r)
				continue
			default:
			}
			break
		}
		items := s.takeInbound(4096, batchBytes)
		if len(reqs) == 0 && len(items) == 0 {
			continue
		}
		s.commit(reqs, items)
		if s.pending() {
			s.poke()
		}
	}
}

func (s *Service) poke() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// commit stores a batch in one transaction, then (and only then) acknowledges,
// transmits and reports it.
func (s *Service) commit(reqs []*sendReq, items []inbound) {
	var events []Event
	acks := map[identity.PeerID][]string{}
	var handedOver []inbound
	var outgoing []store.OutboxEntry
	now := s.cfg.Now()
	// Room membership is read before the write transaction, never inside it:
	// Rooms holds its lock while it writes to the store, so taking that lock
	// inside a transaction was a lock-order inversion that deadlocked the node
	// (found by the soak: a peer's record updating rooms while a room message
	// committed, after which every command and the shutdown hung).
	for i := range items {
		if items[i].typ == TypeMessage && items[i].body.Kind == KindRoom {
			items[i].member = s.cfg.Rooms != nil && s.cfg.Rooms.Joined(items[i].body.Room)
		}
	}
	// A 1:1 message to a peer that is not reachable now is stored as queued, so
	// it still reads "queued" after the history is reopened (the Queued event
	// after the commit tells the skins at once). Read before the transaction,
	// like room membership: no other lock is taken inside it.
	absent := make([]bool, len(reqs))
	for i, r := range reqs {
		absent[i] = r.kind == TypeMessage && r.msg.Room == "" && len(r.to) == 1 && !s.cfg.Net.Online(r.to[0])
	}
	err := s.cfg.DB.Update(func(tx *store.Tx) error {
		events, outgoing, handedOver = events[:0], outgoing[:0], handedOver[:0]
		clear(acks)
		for i, r := range reqs {
			m := r.msg
			if absent[i] {
				m.State = store.StateQueued
			}
			if _, err := tx.PutMessage(m); err != nil {
				return err
			}
			for _, to := range r.to {
				e := store.OutboxEntry{ID: r.msg.ID, To: to.String(), Kind: r.kind, Payload: r.frame, Created: now}
				if r.msg.Room != "" {
					e.Expires = now.Add(RoomOutboxTTL)
				}
				if err := tx.PutOutbox(e); err != nil {
					return err
				}
				outgoing = append(outgoing, e)
			}
		}
		for _, it := range items {
			evs, ack, err := s.apply(tx, it)
			if err != nil {
				return err
			}
			events = append(events, evs...)
			if ack != "" {
				acks[it.from] = append(acks[it.from], ack)
				if it.handedOver {
					handedOver = append(handedOver, it)
				}
			}
		}
		return nil
	})
	for _, r := range reqs {
		r.done <- err
	}
	if err != nil {
		// Nothing was committed, so nothing is acknowledged: senders retry.
		s.cfg.Stats.Add("chat_commit_failed", 1)
		s.cfg.Log.Error("chat commit", "err", err)
		return
	}
	s.cfg.Stats.Add("chat_commits", 1)
	for peer, ids := range acks {
		for len(ids) > 0 {
			n := min(len(ids), maxIDsPerReceipt)
			s.transmit(peer, TypeAck, EncodeIDs(ids[:n]))
			ids = ids[n:]
		}
	}
	for _, it := range handedOver {
		s.handoverDone(it.holder, it.body.ID)
	}
	for _, e := range outgoing {
		if !s.transmitEntry(e) {
			events = append(events, Queued{ID: e.ID, To: e.To})
			s.entrust(e)
		}
	}
	for _, ev := range events {
		if d, ok := ev.(Delivered); ok {
			s.mu.Lock()
			delete(s.lastTry, d.ID+"|"+d.To)
			s.mu.Unlock()
		}
		s.emit(ev)
	}
}

// Ack acknowledges a 1:1 message from peer whose acknowledgement was
// deferred (Config.DeferDirectAcks): its sender sees it delivered.
func (s *Service) Ack(peer identity.PeerID, id string) {
	s.transmit(peer, TypeAck, EncodeIDs([]string{id}))
}

// apply stores one inbound item inside the batch transaction. It returns the events
// to emit after the commit and the message ID to acknowledge, if any.
func (s *Service) apply(tx *store.Tx, it inbound) (events []Event, ack string, err error) {
	from := it.from.String()
	switch it.typ {
	case TypeMessage:
		b := it.body
		order := b.HLC
		if ts, derr := s.cfg.Clock.Update(hlc.Timestamp(b.HLC)); derr != nil {
			// A sender far in the future cannot drag our clock along: its message
			// is ordered by our own timestamp instead. Keeping its key would not
			// do, as the store's newest HLC seeds the clock on the next start.
			s.cfg.Stats.Add("chat_clock_drift", 1)
			order = uint64(ts)
		}
		m := store.Message{ID: b.ID, From: from, Text: b.Text, HLC: order, Time: b.Sent, State: store.StateReceived}
		if b.Kind == KindRoom {
			if !it.member {
				// Acknowledged (so the sender stops retrying) but not kept.
				s.cfg.Stats.Add("chat_drop_not_member", 1)
				return nil, b.ID, nil
			}
			m.Room, m.Conv = b.Room, store.RoomConv(b.Room)
		} else {
			m.To, m.Conv = s.self.String(), store.DirectConv(from)
		}
		isNew, err := tx.PutMessage(m)
		if err != nil {
			return nil, "", err
		}
		if deferred := s.cfg.DeferDirectAcks && b.Kind != KindRoom && !it.handedOver; deferred {
			// Again while unacknowledged: the reader is offered it again.
			return []Event{Received{Message: m}}, "", nil
		}
		if !isNew {
			s.cfg.Stats.Add("chat_duplicate", 1)
			return nil, b.ID, nil
		}
		return []Event{Received{Message: m}}, b.ID, nil
	case TypeAck:
		for _, id := range it.ids {
			existed, err := tx.DeleteOutbox(id, from)
			if err != nil {
				return nil, "", err
			}
			if !existed {
				// An ack for something we never sent that peer (or a repeat).
				s.cfg.Stats.Add("chat_ack_unknown", 1)
				continue
			}
			if _, _, err := tx.AdvanceState(s.self.String(), id, store.StateDelivered); err != nil {
				return nil, "", err
			}
			events = append(events, Delivered{ID: id, To: from})
		}
		return events, "", nil
	case TypeRead:
		var read []string
		for _, id := range it.ids {
			m, ok := tx.GetMessage(s.self.String(), id)
			if !ok || m.To != from {
				s.cfg.Stats.Add("chat_read_unknown", 1)
				continue
			}
			if _, changed, err := tx.AdvanceState(s.self.String(), id, store.StateRead); err != nil {
				return nil, "", err
			} else if changed {
				read = append(read, id)
			}
		}
		if len(read) > 0 {
			events = append(events, ReadBy{IDs: read, By: from})
		}
		return events, "", nil
	}
	return nil, "", nil
}

// transmitEntry sends an outbox entry if its peer is reachable now.
func (s *Service) transmitEntry(e store.OutboxEntry) bool {
	to, err := identity.ParsePeerID(e.To)
	if err != nil || !s.cfg.Net.Online(to) {
		return false
	}
	if e.Kind == TypeRead {
		if !s.transmit(to, e.Kind, e.Payload) {
			return false
		}
		s.receiptSent(e)
		return true
	}
	// Recorded before sending: the ack may be handled (and the record dropped)
	// before transmit even returns.
	key := e.ID + "|" + e.To
	s.mu.Lock()
	s.lastTry[key] = s.cfg.Now()
	s.mu.Unlock()
	if !s.transmit(to, e.Kind, e.Payload) {
		s.mu.Lock()
		delete(s.lastTry, key)
		s.mu.Unlock()
		return false
	}
	return true
}

// transmit sends a chat frame on the shared secure-send path (package
// internal/courier): plain over a direct link (TLS authenticates it), sealed to
// the recipient when it has to be routed through other peers.
func (s *Service) transmit(to identity.PeerID, typ uint8, body []byte) bool {
	return s.courier.Send(to, typ, body) == nil
}

// HandleDirect receives a chat frame from a direct neighbour.
func (s *Service) HandleDirect(typ uint8) func(identity.PeerID, []byte) {
	if typ == TypeSealed {
		return func(from identity.PeerID, payload []byte) { s.handleSealed(from, from, payload, false) }
	}
	return func(from identity.PeerID, payload []byte) { s.handle(from, from, typ, payload, false) }
}

// HandleRouted receives a sealed frame routed through other peers (via is the
// neighbour that handed it to us, src the routed source, a hint only).
func (s *Service) HandleRouted(src, via identity.PeerID, payload []byte) {
	s.handleSealed(via, src, payload, true)
}

// known says whether id may author frames here.
func (s *Service) known(id identity.PeerID) bool {
	if s.cfg.Known != nil {
		return s.cfg.Known(id)
	}
	return s.cfg.Net.PublicKey(id) != nil
}

// admitSender is chat's courier.Config.Admit: the checks every envelope passes
// after its signature is verified and its sender found unblocked (courier.Open)
// and before it is decrypted, in order of cost: the link's budget (so a link
// cannot make us open envelopes faster than carrierRate), the sender's
// standing, the (link, sender) budget and, for a frame not from its author's
// own link, the node's relayed budget.
func (s *Service) admitSender(via, sender identity.PeerID) bool {
	switch {
	case !s.carrier.allow(bucketKey{via: via, src: via}):
		s.cfg.Stats.Add("chat_drop_rate", 1)
	case !s.known(sender):
		s.cfg.Stats.Add("chat_drop_unknown_sender", 1)
	case !s.routed.allow(bucketKey{via: via, src: sender}):
		s.cfg.Stats.Add("chat_drop_rate", 1)
	case sender != via && !s.relayed.allow(relayedKey):
		s.cfg.Stats.Add("chat_drop_relayed_rate", 1)
	default:
		return true
	}
	return false
}

// handleSealed opens a sealed frame that arrived on via's link, either routed
// (src is the routed source) or directly (src is via).
//
// The policy is the one of package internal/courier (and docs/security.md, "The
// sealed sender decides"): the sealed sender is who a frame is from; the routed
// source is only a routing hint. Blocking, budgets and every authorisation use
// the sealed sender. Chat is courier.Relayed: a sealed sender that differs from
// the routed source (or, on a direct link, from the link's peer) is counted
// (chat_source_mismatch) and accepted, because a custodian or relay
// legitimately carries someone else's sealed message.
//
// An unknown sender (no record, no roster entry) may send nothing: its frames
// are dropped before they are opened (chat_drop_unknown_sender) and never get a
// queue. Parley only ever writes to peers it has a record of, whose record
// reaches the recipient along the same paths; an honest message that overtakes
// its author's record is sent again from the author's outbox (within 3 s).
func (s *Service) handleSealed(via, src identity.PeerID, payload []byte, routed bool) {
	f, err := s.courier.OpenFrame(via, src, payload)
	if err != nil {
		return // counted by the courier or admitSender
	}
	// Only the author's own link may make it wait (inbound.go).
	s.handle(via, f.Sender, f.Type, f.Body, routed || f.Sender != via)
}

// handle decodes one chat frame authored by from that arrived on via's link;
// relayed says it must never block that link's reader (inbound.go).
func (s *Service) handle(via, from identity.PeerID, typ uint8, payload []byte, relayed bool) {
	if s.courier.Refused(from) { // chat_drop_blocked
		return
	}
	switch typ {
	case TypeCustody:
		s.handleCustody(from, payload)
		return
	case TypeCustodyAck:
		s.handleCustodyAck(from, payload)
		return
	case TypeHandover:
		s.handleHandover(via, from, payload, !relayed)
		return
	case TypeHandoverDone:
		s.handleHandoverDone(from, payload)
		return
	}
	it := inbound{from: from, typ: typ}
	var err error
	switch typ {
	case TypeMessage:
		it.body, err = DecodeBody(payload)
	case TypeAck, TypeRead:
		it.ids, err = DecodeIDs(payload)
	default:
		err = fmt.Errorf("unexpected chat frame type %d", typ)
	}
	if err != nil {
		s.cfg.Stats.Add("chat_drop_malformed", 1)
		s.cfg.Log.Debug("chat frame dropped", "from", from.Short(), "err", err)
		return
	}
	s.enqueueInbound(it, !relayed)
}

// PeerReachable retransmits everything waiting for a peer that just came online.
func (s *Service) PeerReachable(id identity.PeerID) {
	go func() {
		s.flush(id.String(), 0)
		s.handOver(id)
	}()
}

// flush retransmits the outbox entries of peer ("" = all reachable peers) that were
// not tried within minGap. Entries of peers that are not online are not even
// decoded (store.OutboxWhere).
func (s *Service) flush(peer string, minGap time.Duration) {
	online := map[string]bool{}
	entries, err := s.cfg.DB.OutboxWhere(func(to string) bool {
		if peer != "" {
			return to == peer
		}
		up, seen := online[to]
		if !seen {
			id, err := identity.ParsePeerID(to)
			up = err == nil && s.cfg.Net.Online(id)
			online[to] = up
		}
		return up
	})
	if err != nil {
		return
	}
	now := s.cfg.Now()
	for _, e := range entries {
		s.mu.Lock()
		last := s.lastTry[e.ID+"|"+e.To]
		s.mu.Unlock()
		if minGap > 0 && now.Sub(last) < minGap {
			continue
		}
		if s.transmitEntry(e) {
			s.cfg.Stats.Add("chat_retransmit", 1)
		}
	}
}

// RoomOutboxTTL is how long a room message waits for a member that does not
// acknowledge it. Anyone can join a room (its members are whoever's record lists
// it), so without a limit every Sybil "member" would keep an outbox entry of
// every room message forever. A week matches the custody TTL: a colleague back
// from a week off still gets what was said.
var RoomOutboxTTL = 7 * 24 * time.Hour

// expireEvery is how often the outbox is swept for expired room entries: the
// sweep decodes every entry, so not every RetryEvery.
const expireEvery = 10 * time.Minute

// retryLoop retransmits unacknowledged messages to reachable peers every
// RetryEvery, for acks lost with a link that went down mid-flight, and sweeps
// expired room entries every expireEvery.
func (s *Service) retryLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.RetryEvery)
	defer t.Stop()
	var lastSweep time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.cfg.Now()
		if now.Sub(lastSweep) >= expireEvery {
			lastSweep = now
			s.expireOutbox(now)
		}
		s.sweepCustodyWaits(now)
		if n, err := s.cfg.DB.OutboxLen(); err == nil && n > 0 {
			s.flush("", 3*time.Second)
		}
	}
}

// expireOutbox gives up room entries past their RoomOutboxTTL (counted as
// chat_outbox_expired; the message stays "sent" for that member).
func (s *Service) expireOutbox(now time.Time) {
	gone, err := s.cfg.DB.ExpireOutbox(now)
	if err != nil {
		s.cfg.Log.Warn("expire outbox", "err", err)
		return
	}
	s.cfg.Stats.Add("chat_outbox_expired", uint64(len(gone)))
	s.mu.Lock()
	for _, e := range gone {
		delete(s.lastTry, e.ID+"|"+e.To)
	}
	s.mu.Unlock()
}
