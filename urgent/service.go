package urgent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/courier"
)

// Bounds and timings (doc.go).
const (
	maxInbox    = 256
	maxAcked    = 1024
	maxSeen     = 4096
	maxOutgoing = 64
	maxAlertAck = 4096
	// alertLife is how long an alert is flooded again and accepted: long
	// enough for a node that was away a few minutes, short enough that the
	// dedup set stays small. retryMax caps a message's retry interval.
	alertLife    = 10 * time.Minute
	alertReflood = 15 * time.Second
	retryMax     = 30 * time.Second
	tick         = time.Second
)

var (
	// ErrRate: this node raised 6 urgent items in the last minute already.
	ErrRate = errors.New("urgent: at most 6 urgent items a minute")
	// ErrTooMany: 64 outgoing items wait for acknowledgements; cancel some.
	ErrTooMany = errors.New("urgent: 64 items wait for acknowledgement; cancel some first")
	// ErrUnknown: no such item to acknowledge or cancel.
	ErrUnknown = errors.New("urgent: no such unacknowledged item")
)

// Net is what the service needs of the overlay.
type Net interface {
	courier.Net
	// Online says whether id is reachable in the overlay now.
	Online(id identity.PeerID) bool
	// Neighbours lists the peers with a direct link.
	Neighbours() []identity.PeerID
}

// Config wires a Service.
type Config struct {
	Identity *identity.Identity
	Net      Net
	// Blocked names the peers the user blocked.
	Blocked func(identity.PeerID) bool
	// Load and Save keep the service's state (pending items) across restarts;
	// nil: nothing is kept.
	Load func() ([]byte, error)
	Save func([]byte) error
	Emit func(Event)
	// Stats is where drops and sends are counted.
	Stats *counters.Set
	Now   func() time.Time
	Log   *slog.Logger
}

// Event is what the service reports: Received, Acknowledged or Cancelled.
type Event interface{ urgentEvent() }

// Received: an urgent message or alert for the user, to be shown until Ack.
type Received struct{ Item Item }

// Acknowledged: By acknowledged item ID at At (By's clock); By is this node
// itself when the user acknowledged an item here.
type Acknowledged struct {
	ID ID
	By identity.PeerID
	At time.Time
}

// Cancelled: By (the sender) withdrew item ID, or this node cancelled its own.
type Cancelled struct {
	ID ID
	By identity.PeerID
}

func (Received) urgentEvent()     {}
func (Acknowledged) urgentEvent() {}
func (Cancelled) urgentEvent()    {}

// Item is an urgent message or alert received and not yet acknowledged.
type Item struct {
	ID       ID              `json:"id"`
	From     identity.PeerID `json:"from"`
	Alert    bool            `json:"alert,omitempty"`
	Room     string          `json:"room,omitempty"`
	Text     string          `json:"text"`
	At       time.Time       `json:"at"`       // sent or raised, by the sender's clock
	Received time.Time       `json:"received"` // here
}

// Outgoing is an urgent message or alert this node sent, with who has
// acknowledged it.
type Outgoing struct {
	ID    ID
	Alert bool
	Room  string
	Text  string
	At    time.Time
	// To are a message's recipients (none for an alert).
	To []identity.PeerID
	// Acked says who acknowledged, and when by their clock.
	Acked map[identity.PeerID]time.Time
}

// MarshalText and UnmarshalText keep IDs in hex in the saved state.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	*id = v
	return err
}

// recipient is one recipient of an outgoing message.
type recipient struct {
	Peer     identity.PeerID `json:"peer"`
	AckedAt  time.Time       `json:"acked_at,omitzero"`
	attempts int
	next     time.Time
}

type outgoing struct {
	ID         ID           `json:"id"`
	Alert      bool         `json:"alert,omitempty"`
	Room       string       `json:"room,omitempty"`
	Text       string       `json:"text"`
	At         time.Time    `json:"at"`
	Recipients []*recipient `json:"recipients"`
	frame      []byte       // an alert's signed frame
	nextFlood  time.Time
}

type ackedKey struct {
	From identity.PeerID `json:"from"`
	ID   ID              `json:"id"`
}

type acked struct {
	ackedKey
	At time.Time `json:"at"`
}

// seenAlert is an alert accepted or raised here: when, and the frame to pass
// on to a neighbour that links up later (its hops already lowered).
type seenAlert struct {
	at    time.Time
	frame []byte
}

// state is what Save writes (JSON).
type state struct {
	Inbox []Item      `json:"inbox"`
	Out   []*outgoing `json:"out"`
	Acked []acked     `json:"acked"`
}

// Service sends, retries, receives and floods urgent items.
type Service struct {
	cfg    Config
	sealed *courier.Courier

	mu    sync.Mutex
	inbox []Item
	out   []*outgoing
	acked []acked
	seen  map[ID]seenAlert // alerts accepted or raised here (dedup, LinkUp)
	limit limiter
	own   bucket // this node's own cap
}

// New makes a Service and loads its saved state.
func New(cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Stats == nil {
		cfg.Stats = &counters.Set{}
	}
	if cfg.Emit == nil {
		cfg.Emit = func(Event) {}
	}
	c, err := courier.New(courier.Config{
		Identity: cfg.Identity, Net: cfg.Net, Sealed: TypeUrgent, Policy: courier.Live,
		Blocked: cfg.Blocked, Stats: cfg.Stats, Log: cfg.Log,
		Names: courier.Counters{Blocked: "urgent_drop_blocked", Unsealable: "urgent_drop_unsealed",
			Mismatch: "urgent_drop_sender", SealedSent: "urgent_sealed_sent"},
	})
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, sealed: c, seen: map[ID]seenAlert{}}
	if cfg.Load != nil {
		b, err := cfg.Load()
		if err != nil {
			return nil, fmt.Errorf("urgent: load: %w", err)
		}
		if len(b) > 0 {
			var st state
			if err := json.Unmarshal(b, &st); err != nil {
				cfg.Log.Warn("urgent: saved state unreadable; starting empty", "err", err)
			} else {
				s.inbox, s.out, s.acked = st.Inbox, st.Out, st.Acked
			}
		}
	}
	now := cfg.Now()
	for _, o := range s.out {
		if o.Alert {
			o.frame = SignAlert(cfg.Identity, o.ID, o.At, o.Text)
			s.seen[o.ID] = seenAlert{at: now, frame: o.frame}
		}
	}
	return s, nil
}

func (s *Service) count(name string) { s.cfg.Stats.Add(name, 1) }

// saveLocked writes the state; the caller holds s.mu.
func (s *Service) saveLocked() {
	if s.cfg.Save == nil {
		return
	}
	b, err := json.Marshal(state{Inbox: s.inbox, Out: s.out, Acked: s.acked})
	if err == nil {
		err = s.cfg.Save(b)
	}
	if err != nil {
		s.cfg.Log.Warn("urgent: save", "err", err)
	}
}

// raiseLocked checks this node's own cap and the outgoing bound.
func (s *Service) raiseLocked(now time.Time) error {
	if len(s.out) >= maxOutgoing {
		return ErrTooMany
	}
	if !s.own.take(now, senderPerMinute, senderBurst) {
		return ErrRate
	}
	return nil
}

// Send sends an urgent message to each of to (room names the room it is said
// in, "" for one peer) and keeps sending it until each acknowledges or it is
// cancelled.
func (s *Service) Send(to []identity.PeerID, room, text string) (ID, error) {
	switch {
	case len(text) == 0 || len(text) > MaxText:
		return ID{}, fmt.Errorf("urgent: text of %d bytes (1 to %d)", len(text), MaxText)
	case len(room) > MaxRoom:
		return ID{}, fmt.Errorf("urgent: room ID of %d bytes", len(room))
	case len(to) == 0:
		return ID{}, errors.New("urgent: nobody to send to")
	}
	now := s.cfg.Now()
	o := &outgoing{ID: NewID(), Room: room, Text: text, At: now}
	for _, p := range to {
		if p == s.cfg.Identity.ID || p.IsZero() || slices.ContainsFunc(o.Recipients, func(r *recipient) bool { return r.Peer == p }) {
			continue
		}
		o.Recipients = append(o.Recipients, &recipient{Peer: p})
	}
	if len(o.Recipients) == 0 {
		return ID{}, errors.New("urgent: nobody to send to")
	}
	s.mu.Lock()
	if err := s.raiseLocked(now); err != nil {
		s.mu.Unlock()
		return ID{}, err
	}
	s.out = append(s.out, o)
	s.saveLocked()
	s.mu.Unlock()
	s.retry(now) // the first attempt at once
	return o.ID, nil
}

// Alert raises an all-hands alert: flooded to every node now, and again every
// 15 s for 10 minutes unless cancelled.
func (s *Service) Alert(text string) (ID, error) {
	if len(text) == 0 || len(text) > MaxAlertText {
		return ID{}, fmt.Errorf("alert: text of %d bytes (1 to %d)", len(text), MaxAlertText)
	}
	now := s.cfg.Now()
	o := &outgoing{ID: NewID(), Alert: true, Text: text, At: now}
	o.frame = SignAlert(s.cfg.Identity, o.ID, time.UnixMilli(now.UnixMilli()), text)
	s.mu.Lock()
	if err := s.raiseLocked(now); err != nil {
		s.mu.Unlock()
		return ID{}, err
	}
	s.out = append(s.out, o)
	s.seen[o.ID] = seenAlert{at: now, frame: o.frame}
	o.nextFlood = now.Add(alertReflood)
	s.saveLocked()
	s.mu.Unlock()
	s.flood(o.frame, identity.PeerID{})
	return o.ID, nil
}

// flood sends an alert frame to every neighbour but except.
func (s *Service) flood(frame []byte, except identity.PeerID) {
	for _, nb := range s.cfg.Net.Neighbours() {
		if nb == except {
			continue
		}
		if err := s.cfg.Net.Send(nb, TypeAlert, frame); err != nil {
			s.count("alert_send_failed")
			continue
		}
		s.count("alert_sent")
	}
}

// LinkUp passes every alert still alive to a neighbour that just linked: a
// node that joins, or rejoins after a partition, hears the alerts raised
// while it was away (its neighbours drop copies they hold as duplicates, so
// only the new side of the link spreads them further).
func (s *Service) LinkUp(peer identity.PeerID) {
	now := s.cfg.Now()
	var frames [][]byte
	s.mu.Lock()
	for _, a := range s.seen {
		if a.frame != nil && now.Sub(a.at) < alertLife {
			frames = append(frames, a.frame)
		}
	}
	s.mu.Unlock()
	for _, f := range frames {
		if err := s.cfg.Net.Send(peer, TypeAlert, f); err != nil {
			s.count("alert_send_failed")
			continue
		}
		s.count("alert_sent")
	}
}

// Ack acknowledges every received item with id: it leaves the unacknowledged
// list and the acknowledgement goes to its sender (again when the sender
// retries, should this one be lost).
func (s *Service) Ack(id ID) error {
	now := s.cfg.Now()
	s.mu.Lock()
	var done []acked
	s.inbox = slices.DeleteFunc(s.inbox, func(it Item) bool {
		if it.ID != id {
			return false
		}
		done = append(done, acked{ackedKey: ackedKey{From: it.From, ID: id}, At: now})
		return true
	})
	if len(done) == 0 {
		s.mu.Unlock()
		return ErrUnknown
	}
	s.acked = append(s.acked, done...)
	if len(s.acked) > maxAcked {
		s.acked = slices.Delete(s.acked, 0, len(s.acked)-maxAcked)
	}
	s.saveLocked()
	s.mu.Unlock()
	// A lost acknowledgement is sent again when the sender retries (onMessage).
	for _, d := range done {
		s.sendBody(d.From, Body{Kind: KindAck, ID: id, At: now})
	}
	s.cfg.Emit(Acknowledged{ID: id, By: s.cfg.Identity.ID, At: now})
	return nil
}

// Cancel stops sending an outgoing item; the recipients of a message that
// have not acknowledged it are told, so it leaves their screens.
func (s *Service) Cancel(id ID) error {
	now := s.cfg.Now()
	s.mu.Lock()
	i := slices.IndexFunc(s.out, func(o *outgoing) bool { return o.ID == id })
	if i < 0 {
		s.mu.Unlock()
		return ErrUnknown
	}
	o := s.out[i]
	s.out = slices.Delete(s.out, i, i+1)
	s.saveLocked()
	s.mu.Unlock()
	for _, r := range o.Recipients {
		if r.AckedAt.IsZero() {
			s.sendBody(r.Peer, Body{Kind: KindCancel, ID: id, At: now})
		}
	}
	s.cfg.Emit(Cancelled{ID: id, By: s.cfg.Identity.ID})
	return nil
}

// Pending lists what waits: the items received and not acknowledged (oldest
// first), and the outgoing items not cancelled with who acknowledged them.
func (s *Service) Pending() (in []Item, out []Outgoing) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in = slices.Clone(s.inbox)
	for _, o := range s.out {
		v := Outgoing{ID: o.ID, Alert: o.Alert, Room: o.Room, Text: o.Text, At: o.At, Acked: map[identity.PeerID]time.Time{}}
		for _, r := range o.Recipients {
			if !o.Alert {
				v.To = append(v.To, r.Peer)
			}
			if !r.AckedAt.IsZero() {
				v.Acked[r.Peer] = r.AckedAt
			}
		}
		out = append(out, v)
	}
	return in, out
}

// sendBody seals b to peer and sends it however peer can be reached.
func (s *Service) sendBody(peer identity.PeerID, b Body) error {
	err := s.sealed.SendSealed(peer, EncodeBody(b))
	if err != nil {
		s.count("urgent_send_failed")
	}
	return err
}

// Run retries messages and floods alerts again until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.retry(s.cfg.Now())
		}
	}
}

// retry sends every message to the recipients whose next attempt is due and
// who are reachable, and floods due alerts again.
func (s *Service) retry(now time.Time) {
	type send struct {
		to identity.PeerID
		b  Body
	}
	var sends []send
	var floods [][]byte
	s.mu.Lock()
	for _, o := range s.out {
		if o.Alert {
			if now.Sub(o.At) < alertLife && !now.Before(o.nextFlood) {
				o.nextFlood = now.Add(alertReflood)
				floods = append(floods, o.frame)
			}
			continue
		}
		for _, r := range o.Recipients {
			if !r.AckedAt.IsZero() || now.Before(r.next) || !s.cfg.Net.Online(r.Peer) {
				continue
			}
			r.next = now.Add(min(retryMax, time.Second<<min(r.attempts, 5)))
			r.attempts++
			sends = append(sends, send{r.Peer, Body{Kind: KindMessage, ID: o.ID, At: o.At, Room: o.Room, Text: o.Text}})
		}
	}
	s.mu.Unlock()
	for _, sd := range sends {
		if s.sendBody(sd.to, sd.b) == nil {
			s.count("urgent_sent")
		}
	}
	for _, f := range floods {
		s.flood(f, identity.PeerID{})
	}
}
