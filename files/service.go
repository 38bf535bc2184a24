package files

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/courier"
	"parley/store"
)

// Net is what the file service needs from the overlay.
type Net interface {
	Linked(id identity.PeerID) bool
	Online(id identity.PeerID) bool
	// PublicKey is a peer's identity key from its record (nil if unknown).
	PublicKey(id identity.PeerID) ed25519.PublicKey
	// Send uses a direct link only and never routes: what is sent in the clear
	// must not reach a relay.
	Send(to identity.PeerID, typ uint8, payload []byte) error
	// SendTo routes when there is no direct link.
	SendTo(to identity.PeerID, typ uint8, payload []byte) (direct bool, err error)
	// SendBulkDirect queues on the direct link's bulk lane, waiting for room until
	// ctx ends; it never routes.
	SendBulkDirect(ctx context.Context, to identity.PeerID, typ uint8, payload []byte) error
	// SendBulk is SendTo for the bulk lane (relays drop instead of queueing).
	SendBulk(ctx context.Context, to identity.PeerID, typ uint8, payload []byte) (direct bool, err error)
}

// Ranker orders candidate sources, best first, by link quality (the node uses
// the selection package's BulkTransfer ranking). Candidates it does not know may
// be left out; they are tried after the ranked ones.
type Ranker interface {
	Rank(candidates []identity.PeerID) []identity.PeerID
}

// Rooms answers room membership questions.
type Rooms interface {
	Joined(room string) bool
	Members(room string) []identity.PeerID
}

// Store keeps transfer state across restarts (*store.DB implements it).
type Store interface {
	PutTransfer(t store.Transfer) error
	SetTransferHave(id string, have []byte) error
	DeleteTransfer(id string) error
	Transfers() ([]store.Transfer, error)
}

// Event is what the service reports to the node: one of the types below.
type Event interface{ filesEvent() }

func (Offered) filesEvent()  {}
func (Progress) filesEvent() {}
func (Done) filesEvent()     {}
func (Failed) filesEvent()   {}

// Events the service emits.
type (
	// Offered: a peer offers us a file.
	Offered struct {
		ID, Name, MediaType, From, Room string
		Size                            uint64
	}
	// Progress of a transfer; Rate is bytes per second.
	Progress struct {
		ID           string
		Bytes, Total uint64
		Rate         float64
		Out          bool
	}
	// Done: a download is complete and verified (Path is where it landed), or the
	// recipient of our 1:1 offer has it (Out, Path is our source).
	Done struct {
		ID, Path, Hash string
		Out            bool
	}
	// Failed: a transfer ended without the file (declined, cancelled, an error).
	Failed struct {
		ID, Reason string
		Out        bool
	}
)

// Transfer states (store.Transfer.State).
const (
	StateOffered   = "offered"
	StateActive    = "active"
	StateDone      = "done"
	StateDeclined  = "declined"
	StateCancelled = "cancelled"
	StateFailed    = "failed"
)

// Config wires a Service. Zero durations take the defaults in parentheses.
type Config struct {
	Identity  *identity.Identity
	Net       Net
	Store     Store
	Rooms     Rooms
	Ranker    Ranker // nil: sources in the order they announced themselves
	Downloads string // folder finished files land in
	Emit      func(Event)
	Log       *slog.Logger
	Stats     *counters.Set
	Now       func() time.Time
	// TickEvery paces timeouts, rate estimates, progress events (250 ms).
	TickEvery time.Duration
	// MaxFiles bounds one SendFile call (a folder) (1000).
	MaxFiles int
	// Refuse reports peers the user blocked: nothing they sign is taken, by
	// whatever path it came (nil: nobody).
	Refuse func(identity.PeerID) bool
}

// Service offers, fetches and serves files.
type Service struct {
	cfg  Config
	self identity.PeerID
	// courier sends and opens envelopes (control.go, serve.go).
	courier *courier.Courier

	mu      sync.Mutex
	sendMu  sync.Mutex // orders control sends; taken while holding mu (control.go)
	xfers   map[OfferID]*xfer
	byRoot  map[Hash][]*xfer // active downloads
	seeds   map[Hash][]*xfer // files we can serve
	servers map[identity.PeerID]*server
	ctx     context.Context
	wg      sync.WaitGroup
	// Chunk workers (download.go): started with the first chunk, stopped with
	// the service; working counts jobs queued or running.
	work     chan chunkJob
	workOnce sync.Once
	working  atomic.Int64
	workers  sync.WaitGroup
	quit     chan struct{} // closed when the service stops
	quitOnce sync.Once
	// racy is racyMargin (sourceid.go); tests shorten it rather than wait.
	racy time.Duration
}

// xfer is one offer, sent or received, in memory.
type xfer struct {
	rec   store.Transfer
	offer *Offer
	dl    *download // an active download
	// Outgoing: when the offer was last sent to each peer, whether answered.
	sentTo   map[identity.PeerID]time.Time
	answered bool
	served   uint64 // bytes served (out)
	// src is what serving knows of the seed's file (sourceid.go, serve.go).
	src sourceState
	// Progress reporting.
	lastBytes uint64
	lastEmit  time.Time
}

// New makes a Service and restores stored transfers: unfinished downloads
// resume once sources answer, and finished or offered files are served again.
func New(cfg Config) (*Service, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Stats == nil {
		cfg.Stats = &counters.Set{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TickEvery == 0 {
		cfg.TickEvery = 250 * time.Millisecond
	}
	if cfg.MaxFiles == 0 {
		cfg.MaxFiles = 1000
	}
	if cfg.Downloads == "" {
		return nil, errors.New("files: no downloads folder")
	}
	s := &Service{
		cfg: cfg, self: cfg.Identity.ID,
		xfers: map[OfferID]*xfer{}, byRoot: map[Hash][]*xfer{}, seeds: map[Hash][]*xfer{},
		servers: map[identity.PeerID]*server{}, ctx: context.Background(),
		work: make(chan chunkJob, chunkQueue), quit: make(chan struct{}),
		racy: racyMargin,
	}
	// File frames are live (courier.Live): see handle.
	var err error
	s.courier, err = courier.New(courier.Config{
		Identity: cfg.Identity, Net: cfg.Net, Sealed: TypeSealed, Inner: sealedTypes,
		Policy: courier.Live, Blocked: cfg.Refuse, Stats: cfg.Stats, Names: sealedNames, Log: cfg.Log,
	})
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	out, err := s.load()
	if err != nil {
		return nil, err
	}
	// Requests for resumed downloads go out only if their sources are already
	// reachable (not so in a starting node: the ticks ask once links are up).
	s.sendAll(out)
	return s, nil
}

func (s *Service) emit(ev Event) {
	if s.cfg.Emit != nil {
		s.cfg.Emit(ev)
	}
}

func (s *Service) count(name string) { s.cfg.Stats.Add(name, 1) }

// load restores transfers from the store.
func (s *Service) load() ([]outMsg, error) {
	list, err := s.cfg.Store.Transfers()
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	var out []outMsg
	now := s.cfg.Now()
	for _, rec := range list {
		o, err := DecodeOffer(rec.Offer)
		if err != nil {
			s.cfg.Log.Warn("stored file offer unreadable; dropped", "id", rec.ID, "err", err)
			s.cfg.Store.DeleteTransfer(rec.ID)
			continue
		}
		if !rec.Out {
			if name, err := SafeName(o.Name); err == nil {
				o.Name = name // as handleOffer showed it (stored before it did so)
			}
		}
		x := &xfer{rec: rec, offer: o, sentTo: map[identity.PeerID]time.Time{}}
		x.rec.Offer, x.rec.Have = nil, nil // kept in the store; not rewritten
		s.xfers[o.ID] = x
		switch {
		case rec.Out && (rec.State == StateOffered || rec.State == StateActive):
			s.addSeed(x)
		case !rec.Out && rec.State == StateDone:
			s.addSeed(x)
		case !rec.Out && rec.State == StateActive:
			have := rec.Have
			if have == nil {
				have = []byte{} // no bitmap saved yet: the file itself tells
			}
			if err := s.resume(x, have, now); err != nil {
				s.failLocked(x, fmt.Sprintf("resume: %v", err))
				continue
			}
			out = append(out, s.startSources(x, now)...)
		}
	}
	return out, nil
}

// Run drives timeouts, rate estimates and progress until ctx ends, then saves
// download state and waits for the service's goroutines.
func (s *Service) Run(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	t := time.NewTicker(s.cfg.TickEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// Workers first: a bit is saved only for data that is written.
			s.stopWorkers()
			s.wg.Wait()
			s.persistAll(true)
			s.closeAll()
			return
		case <-t.C:
			s.Tick()
		}
	}
}

func (s *Service) context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx
}

// Tick runs the periodic work once (Run calls it; tests call it with a fake clock).
func (s *Service) Tick() {
	now := s.cfg.Now()
	var out []outMsg
	s.mu.Lock()
	for _, x := range s.xfers {
		if !x.rec.Out && x.rec.State == StateOffered && now.Sub(x.rec.Created) >= offerTTL {
			s.expireLocked(x)
			continue
		}
		if x.dl != nil {
			out = append(out, s.tickDownload(x, now)...)
		}
		if x.rec.Out && (x.rec.State == StateOffered || x.rec.State == StateActive) {
			out = append(out, s.reoffer(x, now)...)
		}
		s.progressLocked(x, now)
	}
	s.unlockAndSend(out)
	s.persistAll(false)
}

// offerTTL is how long an offer made to us waits for the user's answer. A day
// covers a user away from the desk; the pending caps (control.go) hold a
// peer's unanswered offers for that long at most. TestPendingOfferExpires.
const offerTTL = 24 * time.Hour

// expireLocked ends an offer nobody answered. The transfer is kept, without
// its manifest (up to 512 KiB), so the sender's re-offers get a cancel and do
// not raise it again.
func (s *Service) expireLocked(x *xfer) {
	s.count("files_offer_expired")
	s.endLocked(x, StateFailed, "offer expired")
	x.offer.Chunks = nil
	s.emit(Failed{ID: x.rec.ID, Reason: "offer expired"})
}

// busy reports whether chunks are being served (tests wait for quiet).
func (s *Service) busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.servers) > 0 || s.working.Load() > 0
}
