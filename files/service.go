package files

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/seal"
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
	Emit      func(any)
	Log       *slog.Logger
	Stats     *counters.Set
	Now       func() time.Time
	// TickEvery paces timeouts, rate estimates, progress events (250 ms).
	TickEvery time.Duration
	// MaxFiles bounds one SendFile call (a folder) (1000).
	MaxFiles int
}

// Service offers, fetches and serves files.
type Service struct {
	cfg    Config
	self   identity.PeerID
	opener *seal.Opener

	mu      sync.Mutex
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
	// Progress reporting.
	lastBytes uint64
	lastEmit  time.Time
}

// New makes a Service and restores stored transfers: unfinished downloads
// resume once sources answer, and finished or offered files are served again.
func New(cfg Config) (*Service, error) {
	op, err := seal.NewOpener(cfg.Identity)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
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
		cfg: cfg, self: cfg.Identity.ID, opener: op,
		xfers: map[OfferID]*xfer{}, byRoot: map[Hash][]*xfer{}, seeds: map[Hash][]*xfer{},
		servers: map[identity.PeerID]*server{}, ctx: context.Background(),
		work: make(chan chunkJob, chunkQueue), quit: make(chan struct{}),
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) emit(ev any) {
	if s.cfg.Emit != nil {
		s.cfg.Emit(ev)
	}
}

func (s *Service) count(name string) { s.cfg.Stats.Add(name, 1) }

// load restores transfers from the store.
func (s *Service) load() error {
	list, err := s.cfg.Store.Transfers()
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	now := s.cfg.Now()
	for _, rec := range list {
		o, err := DecodeOffer(rec.Offer)
		if err != nil {
			s.cfg.Log.Warn("stored file offer unreadable; dropped", "id", rec.ID, "err", err)
			s.cfg.Store.DeleteTransfer(rec.ID)
			continue
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
			}
		}
	}
	return nil
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
		if x.dl != nil {
			out = append(out, s.tickDownload(x, now)...)
		}
		if x.rec.Out && (x.rec.State == StateOffered || x.rec.State == StateActive) {
			out = append(out, s.reoffer(x, now)...)
		}
		s.progressLocked(x, now)
	}
	s.mu.Unlock()
	s.sendAll(out)
	s.persistAll(false)
}

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
	size, chunk, hashes, err := hashFile(abs)
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
		Size: size, ChunkSize: chunk, Root: RootOf(hashes), Chunks: hashes}
	raw := SignOffer(o, s.cfg.Identity)
	rec := store.Transfer{ID: id.String(), Out: true, Room: room, State: StateOffered, Path: abs, Created: now, Updated: now, Offer: raw}
	if !peer.IsZero() {
		rec.Peer = peer.String()
	}
	if err := s.cfg.Store.PutTransfer(rec); err != nil {
		return "", err
	}
	rec.Offer = nil
	x := &xfer{rec: rec, offer: o, sentTo: map[identity.PeerID]time.Time{}}
	s.mu.Lock()
	s.xfers[id] = x
	s.addSeed(x)
	out := s.reoffer(x, now)
	s.mu.Unlock()
	s.sendAll(out)
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
	raw := signedOf(x, s)
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

// signedOf re-encodes an offer we made (the signature is deterministic: Ed25519).
func signedOf(x *xfer, s *Service) []byte { return SignOffer(x.offer, s.cfg.Identity) }

func (s *Service) lookup(id string) (*xfer, error) {
	oid, err := ParseOfferID(id)
	if err != nil {
		return nil, err
	}
	x := s.xfers[oid]
	if x == nil {
		return nil, fmt.Errorf("no file transfer %s", id)
	}
	return x, nil
}

// Accept starts downloading an offered file into the downloads folder.
func (s *Service) Accept(id string) error {
	s.mu.Lock()
	x, err := s.lookup(id)
	if err == nil && (x.rec.Out || x.rec.State != StateOffered) {
		err = fmt.Errorf("file %s is not an open offer (%s)", id, x.rec.State)
	}
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("accept: %w", err)
	}
	if err := os.MkdirAll(s.cfg.Downloads, 0o700); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("accept: downloads folder: %w", err)
	}
	x.rec.State = StateActive
	x.rec.Temp = filepath.Join(s.cfg.Downloads, ".parley-"+x.offer.ID.String()+".part")
	err = s.resume(x, nil, s.cfg.Now())
	if err == nil {
		err = s.saveLocked(x)
	}
	if err != nil {
		s.failLocked(x, err.Error())
		s.mu.Unlock()
		return fmt.Errorf("accept: %w", err)
	}
	out := []outMsg{{to: x.offer.From(), typ: TypeAnswer, body: EncodeAnswer(Answer{ID: x.offer.ID, Verdict: VerdictAccept})}}
	out = append(out, s.startSources(x, s.cfg.Now())...)
	s.mu.Unlock()
	s.sendAll(out)
	s.maybeFinish(x)
	return nil
}

// Decline refuses an offer; nothing is written but the refusal.
func (s *Service) Decline(id string) error {
	s.mu.Lock()
	x, err := s.lookup(id)
	if err == nil && (x.rec.Out || x.rec.State != StateOffered) {
		err = fmt.Errorf("file %s is not an open offer", id)
	}
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("decline: %w", err)
	}
	x.rec.State = StateDeclined
	err = s.saveLocked(x)
	from := x.offer.From()
	s.mu.Unlock()
	s.sendAll([]outMsg{{to: from, typ: TypeAnswer, body: EncodeAnswer(Answer{ID: x.offer.ID, Verdict: VerdictDecline})}})
	return err
}

// Cancel stops a transfer in either direction; a partial download is deleted.
func (s *Service) Cancel(id string) error {
	s.mu.Lock()
	x, err := s.lookup(id)
	if err == nil && x.rec.State != StateOffered && x.rec.State != StateActive {
		err = fmt.Errorf("file %s is already %s", id, x.rec.State)
	}
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("cancel: %w", err)
	}
	var to []identity.PeerID
	if x.rec.Out {
		for p := range x.sentTo {
			to = append(to, p)
		}
	} else {
		to = []identity.PeerID{x.offer.From()}
	}
	s.endLocked(x, StateCancelled, "cancelled")
	s.mu.Unlock()
	var out []outMsg
	for _, p := range to {
		out = append(out, outMsg{to: p, typ: TypeAnswer, body: EncodeAnswer(Answer{ID: x.offer.ID, Verdict: VerdictCancel})})
	}
	s.sendAll(out)
	return nil
}

// endLocked moves a transfer to a final state other than done: the download
// stops, its partial file goes, the file is no longer served for this offer.
func (s *Service) endLocked(x *xfer, state, reason string) {
	s.stopDownload(x)
	if !x.rec.Out && x.rec.Temp != "" {
		os.Remove(x.rec.Temp)
		x.rec.Temp = ""
	}
	s.removeSeed(x)
	x.rec.State, x.rec.Reason = state, reason
	if err := s.saveLocked(x); err != nil {
		s.cfg.Log.Warn("save file transfer", "id", x.rec.ID, "err", err)
	}
}

func (s *Service) failLocked(x *xfer, reason string) {
	s.cfg.Log.Warn("file transfer failed", "id", x.rec.ID, "reason", reason)
	s.endLocked(x, StateFailed, reason)
	s.emit(Failed{ID: x.rec.ID, Reason: reason, Out: x.rec.Out})
}

func (s *Service) saveLocked(x *xfer) error {
	x.rec.Updated = s.cfg.Now()
	return s.cfg.Store.PutTransfer(x.rec)
}

// Info describes one transfer (Transfers).
type Info struct {
	ID        string `json:"id"`
	Out       bool   `json:"out"`
	Name      string `json:"name"`
	MediaType string `json:"type,omitempty"`
	Size      uint64 `json:"size"`
	Bytes     uint64 `json:"bytes"`
	State     string `json:"state"`
	Peer      string `json:"peer,omitempty"`
	Room      string `json:"room,omitempty"`
	Path      string `json:"path,omitempty"`
	Hash      string `json:"hash"`
	Reason    string `json:"reason,omitempty"`
}

// Transfers lists every known transfer.
func (s *Service) Transfers() []Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Info, 0, len(s.xfers))
	for _, x := range s.xfers {
		in := Info{ID: x.rec.ID, Out: x.rec.Out, Name: x.offer.Name, MediaType: x.offer.MediaType, Size: x.offer.Size,
			State: x.rec.State, Room: x.offer.Room, Path: x.rec.Path, Hash: x.offer.Root.String(), Reason: x.rec.Reason}
		if x.rec.Out {
			in.Peer = x.rec.Peer
		} else {
			in.Peer = x.offer.From().String()
		}
		switch {
		case x.dl != nil:
			in.Bytes = x.dl.bytes
		case x.rec.State == StateDone:
			in.Bytes = x.offer.Size
		}
		out = append(out, in)
	}
	return out
}

// progressLocked emits a progress event at most every progressEvery per transfer.
func (s *Service) progressLocked(x *xfer, now time.Time) {
	var bytes uint64
	var rate float64
	switch {
	case x.dl != nil:
		bytes, rate = x.dl.bytes, x.dl.rate.rate
	case x.rec.Out && x.offer.Room == "" && x.rec.State == StateActive:
		bytes = min(x.served, x.offer.Size)
	default:
		return
	}
	if bytes == x.lastBytes || now.Sub(x.lastEmit) < progressEvery {
		return
	}
	if x.rec.Out && x.lastEmit.IsZero() {
		x.lastEmit = now
		return
	}
	if x.rec.Out {
		rate = float64(bytes-x.lastBytes) / now.Sub(x.lastEmit).Seconds()
	}
	x.lastBytes, x.lastEmit = bytes, now
	s.emit(Progress{ID: x.rec.ID, Bytes: bytes, Total: x.offer.Size, Rate: rate, Out: x.rec.Out})
}

// progressEvery rate-limits progress events (at most 4 per second per transfer).
const progressEvery = 250 * time.Millisecond

func (s *Service) addSeed(x *xfer) {
	s.seeds[x.offer.Root] = append(s.seeds[x.offer.Root], x)
}

func (s *Service) removeSeed(x *xfer) {
	list := s.seeds[x.offer.Root]
	for i, y := range list {
		if y == x {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(s.seeds, x.offer.Root)
	} else {
		s.seeds[x.offer.Root] = list
	}
}

// busy reports whether chunks are being served (tests wait for quiet).
func (s *Service) busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.servers) > 0 || s.working.Load() > 0
}
