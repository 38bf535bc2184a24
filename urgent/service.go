package urgent

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
