package courier

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/seal"
)

// Net is what the courier needs from the overlay. chat.Net and files.Net
// include it, so a service hands its own Net over.
type Net interface {
	// Linked says whether there is a direct link to id.
	Linked(id identity.PeerID) bool
	// Send uses the direct link only.
	Send(to identity.PeerID, typ uint8, payload []byte) error
	// SendTo uses the direct link when there is one and routes otherwise.
	SendTo(to identity.PeerID, typ uint8, payload []byte) (direct bool, err error)
	// PublicKey is a peer's identity key from its record (nil if unknown).
	PublicKey(id identity.PeerID) ed25519.PublicKey
}

// Policy is what a service declares about envelopes whose sealed sender is
// not the routed source or link peer (see the package documentation).
type Policy uint8

const (
	// Live drops a mismatch: calls and file transfers are exchanges with
	// their author only.
	Live Policy = iota
	// Relayed counts a mismatch and accepts the frame as the sealed
	// sender's: chat and custody hand-overs are store-and-forward.
	Relayed
)

func (p Policy) String() string {
	if p == Relayed {
		return "relayed"
	}
	return "live"
}

// Counters names the counters a courier adds to; each service keeps the
// names its tests, docs and dashboards know. An empty name is not counted.
type Counters struct {
	Blocked    string // a blocked routed source, link peer or sealed sender
	Unsealable string // an envelope that does not parse, verify or decrypt
	Mismatch   string // sealed sender ≠ routed source (dropped if Live)
	Malformed  string // an inner type the service does not take
	SealedSent string // an envelope handed to the overlay
	// RouteFailed: the overlay could not take a sealed frame; Unreachable:
	// the recipient has no record key, so nothing could be sealed.
	RouteFailed string
	Unreachable string
}

// Config wires a Courier.
type Config struct {
	Identity *identity.Identity
	Net      Net
	// Sealed is the service's frame type for its envelopes.
	Sealed uint8
	// Inner are the frame types an envelope of this service may carry
	// (OpenFrame); nothing else, in particular no envelope type, is taken.
	Inner []uint8
	// Policy for a sealed sender that is not the routed source.
	Policy Policy
	// Blocked names the peers the user blocked (nil: nobody).
	Blocked func(identity.PeerID) bool
	// Admit, when set, runs on the verified sealed sender before the
	// envelope is decrypted: the service's budgets and standing checks. via
	// is the link the envelope arrived on. It counts its own drops.
	Admit func(via, sender identity.PeerID) bool
	Stats *counters.Set
	Names Counters
	Log   *slog.Logger
}

// Courier sends and opens one service's frames.
type Courier struct {
	cfg    Config
	opener *seal.Opener
}

// New makes a Courier for cfg.Identity.
func New(cfg Config) (*Courier, error) {
	op, err := seal.NewOpener(cfg.Identity)
	if err != nil {
		return nil, fmt.Errorf("courier: %w", err)
	}
	if cfg.Stats == nil {
		cfg.Stats = &counters.Set{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Courier{cfg: cfg, opener: op}, nil
}

func (c *Courier) count(name string) {
	if name != "" {
		c.cfg.Stats.Add(name, 1)
	}
}

// Errors of the send path.
var (
	// ErrNoKey: the recipient has no record this node knows, so there is no
	// key to seal to (counted as Counters.Unreachable).
	ErrNoKey = errors.New("no record key to seal to")
)

// Errors of the open path; every one was counted when it is returned.
var (
	ErrBlocked    = errors.New("blocked peer")
	ErrUnsealable = errors.New("envelope does not open")
	ErrMismatch   = errors.New("sealed sender is not the source")
	ErrRefused    = errors.New("refused by the service") // Admit said no
	ErrMalformed  = errors.New("inner frame type not taken")
)
