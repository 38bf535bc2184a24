package talkgroup

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"parley/identity"
	"parley/internal/counters"
	"parley/media/audio"
)

// Net is the overlay as the service sees it.
type Net interface {
	// SendTo sends a frame to a peer, directly or routed.
	SendTo(to identity.PeerID, typ uint8, p []byte) (bool, error)
	// PublicKey is the identity key of a known peer (nil if unknown).
	PublicKey(id identity.PeerID) ed25519.PublicKey
}

// Config wires a Service.
type Config struct {
	Identity *identity.Identity
	Net      Net
	Type     uint8 // the frame type (wire.FramePTT)
	// Joined says whether this node is a member of room; Members lists the
	// room's other members online now.
	Joined  func(room string) bool
	Members func(room string) []identity.PeerID
	// Monitor says whether to play a room's transmissions here (the room is a
	// talkgroup for this node); frames are forwarded either way.
	Monitor func(room string) bool
	// Rank orders members best forwarder first (selection's ptt purpose);
	// nil keeps the order given.
	Rank func(members []identity.PeerID) []identity.PeerID
	// OpenSource opens the microphone for one transmission; OpenSink the
	// speaker, once, at the first frame to play.
	OpenSource func() (audio.Source, error)
	OpenSink   func() (audio.Sink, error)
	Emit       func(Event)
	Stats      *counters.Set
	Now        func() time.Time
	Log        *slog.Logger
	FanOut     int // copies sent of each frame (FanOut if 0)
}

// Event is State or Busy.
type Event interface{ pttEvent() }

// State: Speaker started (On) or stopped talking in Room. Why says why a
// transmission ended ("end", "preempted", "silence", "max_talk", "released").
type State struct {
	Room    string
	Speaker identity.PeerID
	On      bool
	Why     string
}

// Busy: this node asked for the floor of Room while Holder had it (or others
// were queued ahead): it is queued at Position (from 1) and will be granted
// the floor in turn while the key stays down.
type Busy struct {
	Room     string
	Holder   identity.PeerID
	Position int
}

func (State) pttEvent() {}
func (Busy) pttEvent()  {}

// Errors of Press, Release and Replay.
var (
	ErrNotMember = errors.New("not a member of that room")
	ErrNoReplay  = errors.New("nothing to replay in that room")
)

// maxRooms bounds the rooms with floor state (only joined rooms get one).
const maxRooms = 256

// Service is one node's push-to-talk: its own transmissions, the floors of
// its rooms, forwarding along trees and playout.
type Service struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	rooms  map[string]*room
	live   *stream   // the transmission being played here
	replay [][]byte  // frames waiting to be replayed
	lastTX uint64    // the last claim this node made (strictly increasing)
	out    *lazySink // used by the playout goroutine only
	vias   map[identity.PeerID]*bucket
	// wake restarts Run's ticking when something happens to a service that
	// went idle (idle.go).
	wake  chan struct{}
	ticks atomic.Uint64 // Run's ticks, for the idle test
}

type room struct {
	floor   Floor
	trees   map[identity.PeerID]forwardTree
	buckets map[identity.PeerID]*bucket
	dup     Claim
	dupWin  seen
	rec     recording
	want    bool // the local key is down
	asked   uint64
	askedAt time.Time
	tx      *transmit
}

type forwardTree struct {
	tx   uint64
	list []identity.PeerID
}

type transmit struct {
	claim  Claim
	cancel context.CancelFunc
	why    string
}

// New makes a service; Run drives it.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.FanOut <= 0 {
		cfg.FanOut = FanOut
	}
	if cfg.Stats == nil {
		cfg.Stats = &counters.Set{}
	}
	if cfg.Rank == nil {
		cfg.Rank = func(m []identity.PeerID) []identity.PeerID { return m }
	}
	s := &Service{cfg: cfg, rooms: map[string]*room{}, vias: map[identity.PeerID]*bucket{}, wake: make(chan struct{}, 1)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.out = &lazySink{open: cfg.OpenSink, count: s.count}
	return s
}

func (s *Service) count(name string)     { s.cfg.Stats.Add(name, 1) }
func (s *Service) self() identity.PeerID { return s.cfg.Identity.ID }

func unixMS(t time.Time) uint64 { return uint64(max(t.UnixMilli(), 0)) }

// roomLocked returns room id's state, making it; nil when too many rooms.
func (s *Service) roomLocked(id string) *room {
	r := s.rooms[id]
	if r == nil {
		if len(s.rooms) >= maxRooms {
			return nil
		}
		r = &room{trees: map[identity.PeerID]forwardTree{}, buckets: map[identity.PeerID]*bucket{}}
		s.rooms[id] = r
	}
	return r
}

// Press puts the key down in room: this node takes the floor if it is free,
// or is queued (a Busy event) and takes it in turn while the key stays down.
func (s *Service) Press(roomID string) error {
	defer s.poke()
	if !s.cfg.Joined(roomID) || len(roomID) > MaxRoom || roomID == "" {
		return ErrNotMember
	}
	now := s.cfg.Now()
	var evs []Event
	s.mu.Lock()
	r := s.roomLocked(roomID)
	if r == nil {
		s.mu.Unlock()
		return ErrNotMember
	}
	r.want = true
	if r.tx == nil {
		evs = s.takeOrQueueLocked(roomID, r, now)
	}
	s.mu.Unlock()
	s.emit(evs)
	return nil
}

// takeOrQueueLocked starts a transmission if the floor may be taken, else
// queues this node and tells the members.
func (s *Service) takeOrQueueLocked(roomID string, r *room, now time.Time) []Event {
	if r.floor.MayTake(s.self()) {
		return s.startLocked(roomID, r, now)
	}
	if r.asked == 0 {
		r.asked = unixMS(now)
	}
	r.floor.Request(Request{Peer: s.self(), At: r.asked})
	s.askLocked(roomID, r, KindRequest, now)
	holder, held := r.floor.Holder()
	b := Busy{Room: roomID, Position: r.floor.Position(s.self())}
	if held {
		b.Holder = holder.Speaker
	} else if q := r.floor.Queue(); len(q) > 0 {
		b.Holder = q[0].Peer
	}
	s.count("ptt_busy")
	return []Event{b}
}

// askLocked sends a request or cancel to every member online.
func (s *Service) askLocked(roomID string, r *room, k Kind, now time.Time) {
	r.askedAt = now
	f, err := Encode(s.cfg.Identity, Frame{Kind: k, Room: roomID, TX: r.asked})
	if err != nil {
		return
	}
	members := s.cfg.Members(roomID)
	go func() {
		for _, m := range members {
			s.send(m, f)
		}
	}()
}

func (s *Service) send(to identity.PeerID, f []byte) {
	if _, err := s.cfg.Net.SendTo(to, s.cfg.Type, f); err != nil {
		s.count("ptt_send_failed")
	}
}

// Release lets the key go: the transmission ends, or the queued request is
// withdrawn.
func (s *Service) Release(roomID string) error {
	defer s.poke()
	if !s.cfg.Joined(roomID) {
		return ErrNotMember
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[roomID]
	if r == nil {
		return nil
	}
	r.want = false
	if r.tx != nil {
		r.tx.why = "released"
		r.tx.cancel()
	}
	if r.asked != 0 {
		r.floor.Cancel(s.self())
		s.askLocked(roomID, r, KindCancel, s.cfg.Now())
		r.asked = 0
	}
	return nil
}

// startLocked claims the floor and starts sending.
func (s *Service) startLocked(roomID string, r *room, now time.Time) []Event {
	tx := max(unixMS(now), s.lastTX+1)
	s.lastTX = tx
	c := Claim{Speaker: s.self(), TX: tx}
	ok, ch := r.floor.Audio(c, now)
	if !ok {
		return nil
	}
	if r.asked != 0 {
		r.asked = 0
	}
	ctx, cancel := context.WithTimeout(s.ctx, MaxTalk)
	r.tx = &transmit{claim: c, cancel: cancel, why: "max_talk"}
	go s.transmit(ctx, roomID, r.tx)
	s.count("ptt_transmissions")
	return s.changeEvents(roomID, r, ch)
}

// changeEvents turns a floor change into events, stopping this node's
// transmission if another took the floor from it.
func (s *Service) changeEvents(roomID string, r *room, ch Change) []Event {
	var evs []Event
	if ch.Ended != nil {
		evs = append(evs, State{Room: roomID, Speaker: ch.Ended.Speaker, Why: ch.Why})
		if r.tx != nil && r.tx.claim == *ch.Ended {
			r.tx.why = ch.Why
			r.tx.cancel()
		}
	}
	if ch.Started != nil {
		evs = append(evs, State{Room: roomID, Speaker: ch.Started.Speaker, On: true})
	}
	return evs
}

func (s *Service) emit(evs []Event) {
	if s.cfg.Emit == nil {
		return
	}
	for _, e := range evs {
		s.cfg.Emit(e)
	}
}

// Holder returns who holds room's floor now and the queue.
func (s *Service) Holder(roomID string) (speaker identity.PeerID, held bool, queue []Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rooms[roomID]; r != nil {
		c, ok := r.floor.Holder()
		return c.Speaker, ok, r.floor.Queue()
	}
	return identity.PeerID{}, false, nil
}

// Replay plays room's last transmission to the local sink.
func (s *Service) Replay(roomID string) error {
	defer s.poke()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[roomID]
	if r == nil || len(r.rec.frames) == 0 {
		return ErrNoReplay
	}
	s.replay = slices.Clone(r.rec.frames)
	s.count("ptt_replays")
	return nil
}

// tick runs the floors' timers (every 100 ms from Run).
func (s *Service) tick(now time.Time) {
	var evs []Event
	s.mu.Lock()
	for id, r := range s.rooms {
		evs = append(evs, s.changeEvents(id, r, r.floor.Tick(now))...)
		if r.asked != 0 && r.tx == nil && now.Sub(r.askedAt) >= time.Second {
			// Re-ask once a second: a member that missed the request (or
			// joined since) learns the queue, and one that dropped this
			// node as a head that did not start re-queues it.
			r.floor.Request(Request{Peer: s.self(), At: r.asked})
			s.askLocked(id, r, KindRequest, now)
		}
		evs = append(evs, s.grantLocked(id, r, now)...)
	}
	s.mu.Unlock()
	s.emit(evs)
}

// grantLocked starts this node's transmission when its key is down and its
// turn has come.
func (s *Service) grantLocked(roomID string, r *room, now time.Time) []Event {
	if r.want && r.tx == nil && r.floor.MayTake(s.self()) {
		return s.startLocked(roomID, r, now)
	}
	return nil
}

// Run drives playout (every 20 ms) and the floors' timers until ctx ends,
// and sleeps while there is nothing to play and no floor to time (idle.go).
func (s *Service) Run(ctx context.Context) {
	defer s.cancel()
	defer s.out.close()
	t := time.NewTicker(frameTick)
	defer t.Stop()
	n, idle := 0, false
	for {
		if idle {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			}
			t.Reset(frameTick)
			idle = false
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake: // already ticking
		case now := <-t.C:
			s.ticks.Add(1)
			s.play(now)
			if n++; n%5 == 0 {
				s.tick(now)
			}
			if !s.busy() {
				t.Stop()
				idle = true
			}
		}
	}
}
