package chat

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"parley/identity"
	"parley/internal/hlc"
	"parley/internal/wire"
	"parley/store"
)

// RecordExtRooms is the peer-record extension type carrying the rooms a peer has
// joined: [count u8] then count × [room ID bytes8][name bytes8][topic bytes16]
// [topic HLC u64]. Room IDs are 32 lowercase hex characters (16 random bytes).
const RecordExtRooms = wire.RecordExtRooms

const (
	maxRoomsAdvertised = 64
	maxRoomName        = 64
	maxTopic           = 512
)

// RoomInfo describes a room as this node sees it.
type RoomInfo struct {
	ID      string
	Name    string
	Topic   string
	Members []string
	Joined  bool
}

type roomAd struct {
	ID, Name, Topic string
	TopicHLC        uint64
}

// EncodeRoomAds encodes the rooms extension.
func EncodeRoomAds(ads []roomAd) []byte {
	var w wire.Writer
	w.U8(uint8(min(len(ads), maxRoomsAdvertised)))
	for _, a := range ads[:min(len(ads), maxRoomsAdvertised)] {
		w.Str8(a.ID)
		w.Str8(a.Name)
		w.Str16(a.Topic)
		w.U64(a.TopicHLC)
	}
	return w.B
}

// DecodeRoomAds parses the rooms extension.
func DecodeRoomAds(b []byte) ([]roomAd, error) {
	r := wire.NewReader(b)
	n := int(r.U8())
	if n > maxRoomsAdvertised {
		return nil, fmt.Errorf("rooms extension lists %d rooms", n)
	}
	var out []roomAd
	for i := 0; i < n && r.Err == nil; i++ {
		a := roomAd{ID: r.Str8(), Name: r.Str8(), Topic: r.Str16(), TopicHLC: r.U64()}
		if !validRoomID(a.ID) || len(a.Name) > maxRoomName || len(a.Topic) > maxTopic {
			r.Fail("bad room entry")
		}
		out = append(out, a)
	}
	if r.Err != nil {
		return nil, fmt.Errorf("rooms extension: %w", r.Err)
	}
	return out, nil
}

func validRoomID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// Rooms keeps the room registry: rooms this node joined (persisted) and the rooms
// other peers advertise in their records.
type Rooms struct {
	self  identity.PeerID
	db    *store.DB
	clock *hlc.Clock

	mu    sync.Mutex
	local map[string]store.Room        // every room known, joined or not
	ads   map[identity.PeerID][]roomAd // newest advertisement per peer
}

// NewRooms loads the stored rooms.
func NewRooms(self identity.PeerID, db *store.DB, clock *hlc.Clock) (*Rooms, error) {
	r := &Rooms{self: self, db: db, clock: clock, local: map[string]store.Room{}, ads: map[identity.PeerID][]roomAd{}}
	rooms, err := db.Rooms()
	if err != nil {
		return nil, err
	}
	for _, room := range rooms {
		r.local[room.ID] = room
	}
	return r, nil
}

// Joined reports whether this node is a member of room.
func (r *Rooms) Joined(room string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.local[room].Joined
}

// Members lists the peers whose newest record lists the room, plus this node if it
// has joined, sorted.
func (r *Rooms) Members(room string) []identity.PeerID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.membersLocked(room)
}

func (r *Rooms) membersLocked(room string) []identity.PeerID {
	var out []identity.PeerID
	if r.local[room].Joined {
		out = append(out, r.self)
	}
	for peer, ads := range r.ads {
		if slices.ContainsFunc(ads, func(a roomAd) bool { return a.ID == room }) {
			out = append(out, peer)
		}
	}
	slices.SortFunc(out, identity.PeerID.Compare)
	return out
}

func (r *Rooms) infoLocked(id string) RoomInfo {
	room := r.local[id]
	info := RoomInfo{ID: id, Name: room.Name, Topic: room.Topic, Joined: room.Joined, Members: []string{}}
	for _, m := range r.membersLocked(id) {
		info.Members = append(info.Members, m.String())
	}
	return info
}

// Info describes one room.
func (r *Rooms) Info(id string) (RoomInfo, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.local[id]; !ok {
		return RoomInfo{}, false
	}
	return r.infoLocked(id), true
}

// List describes every known room, joined first, then by name.
func (r *Rooms) List() []RoomInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]RoomInfo, 0, len(r.local))
	for id := range r.local {
		out = append(out, r.infoLocked(id))
	}
	slices.SortFunc(out, func(a, b RoomInfo) int {
		switch {
		case a.Joined != b.Joined:
			if a.Joined {
				return -1
			}
			return 1
		case a.Name != b.Name:
			if a.Name < b.Name {
				return -1
			}
			return 1
		case a.ID < b.ID:
			return -1
		}
		return 1
	})
	return out
}

// Ads is this node's rooms extension for its peer record.
func (r *Rooms) Ads() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ads []roomAd
	for _, room := range r.local {
		if room.Joined {
			ads = append(ads, roomAd{ID: room.ID, Name: room.Name, Topic: room.Topic, TopicHLC: room.TopicHLC})
		}
	}
	slices.SortFunc(ads, func(a, b roomAd) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	return EncodeRoomAds(ads)
}

// UpdatePeer applies a peer's newest rooms extension (nil when it has none or went
// offline for good) and returns the IDs of rooms whose view changed.
func (r *Rooms) UpdatePeer(peer identity.PeerID, ext []byte) ([]string, error) {
	var ads []roomAd
	if ext != nil {
		var err error
		if ads, err = DecodeRoomAds(ext); err != nil {
			return nil, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := map[string]bool{}
	old := r.ads[peer]
	for _, a := range old {
		if !slices.ContainsFunc(ads, func(b roomAd) bool { return b.ID == a.ID }) {
			changed[a.ID] = true // peer left
		}
	}
	for _, a := range ads {
		if !slices.ContainsFunc(old, func(b roomAd) bool { return b.ID == a.ID }) {
			changed[a.ID] = true // peer joined
		}
		room, known := r.local[a.ID]
		if !known {
			room = store.Room{ID: a.ID, Name: a.Name, Created: time.Now()}
			changed[a.ID] = true
		}
		// The newer change wins; equal timestamps (two clocks can issue the
		// same one) are broken by the text, so every node settles on one topic.
		if a.TopicHLC > room.TopicHLC || (a.TopicHLC == room.TopicHLC && a.Topic > room.Topic) {
			room.Topic, room.TopicHLC = a.Topic, a.TopicHLC
			changed[a.ID] = true
		}
		if room.Name == "" {
			room.Name = a.Name
		}
		if changed[a.ID] {
			r.local[a.ID] = room
			if err := r.db.PutRoom(room); err != nil {
				return nil, err
			}
		}
	}
	if len(ads) == 0 {
		delete(r.ads, peer)
	} else {
		r.ads[peer] = ads
	}
	out := make([]string, 0, len(changed))
	for id := range changed {
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}

// Join joins a room named by ID, or by name: an existing room with that name (the
// one with most members) or, when there is none, a new room.
func (r *Rooms) Join(nameOrID string) (RoomInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := ""
	if _, ok := r.local[nameOrID]; ok {
		id = nameOrID
	} else {
		if nameOrID == "" || len(nameOrID) > maxRoomName {
			return RoomInfo{}, fmt.Errorf("room name must be 1–%d bytes", maxRoomName)
		}
		best := -1
		for rid, room := range r.local {
			if room.Name == nameOrID {
				if n := len(r.membersLocked(rid)); n > best || (n == best && rid < id) {
					id, best = rid, n
				}
			}
		}
	}
	room, ok := r.local[id]
	if !ok {
		var raw [16]byte
		rand.Read(raw[:])
		room = store.Room{ID: hex.EncodeToString(raw[:]), Name: nameOrID, Created: time.Now()}
	}
	room.Joined = true
	if err := r.db.PutRoom(room); err != nil {
		return RoomInfo{}, err
	}
	r.local[room.ID] = room
	return r.infoLocked(room.ID), nil
}

// ErrUnknownRoom is returned for a room this node has never seen.
var ErrUnknownRoom = errors.New("unknown room")

// Leave leaves a room; its history stays.
func (r *Rooms) Leave(id string) (RoomInfo, error) {
	return r.modify(id, func(room *store.Room) error {
		if !room.Joined {
			return errors.New("not a member of that room")
		}
		room.Joined = false
		return nil
	})
}

// SetTopic changes a joined room's topic; the newest change (by HLC) wins everywhere.
func (r *Rooms) SetTopic(id, topic string) (RoomInfo, error) {
	if len(topic) > maxTopic {
		return RoomInfo{}, fmt.Errorf("topic longer than %d bytes", maxTopic)
	}
	return r.modify(id, func(room *store.Room) error {
		if !room.Joined {
			return errors.New("join the room to set its topic")
		}
		room.Topic, room.TopicHLC = topic, uint64(r.clock.Now())
		return nil
	})
}

func (r *Rooms) modify(id string, fn func(*store.Room) error) (RoomInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	room, ok := r.local[id]
	if !ok {
		return RoomInfo{}, ErrUnknownRoom
	}
	if err := fn(&room); err != nil {
		return RoomInfo{}, err
	}
	if err := r.db.PutRoom(room); err != nil {
		return RoomInfo{}, err
	}
	r.local[id] = room
	return r.infoLocked(id), nil
}

// Say sends a message to every other member of a joined room; members not reachable
// now get it from the outbox when they return.
func (s *Service) Say(room, text string) (store.Message, error) {
	if s.cfg.Rooms == nil || !s.cfg.Rooms.Joined(room) {
		return store.Message{}, errors.New("join the room before writing to it")
	}
	var to []identity.PeerID
	for _, m := range s.cfg.Rooms.Members(room) {
		if m != s.self {
			to = append(to, m)
		}
	}
	return s.submit(KindRoom, room, to, text)
}
