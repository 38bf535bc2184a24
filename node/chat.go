package node

import (
	"errors"
	"fmt"
	"time"

	"parley/chat"
	"parley/identity"
	"parley/internal/hlc"
	"parley/linkquality"
	"parley/overlay"
	"parley/selection"
	"parley/store"
)

// custodians picks, among directly linked online peers, the one with the lowest
// smoothed RTT to hold messages for an absent peer, each peer's RTT raised by the
// chat purpose's reputation weight (selection, 5 ms) per recent failure this node saw
// it make (linkquality.Reputation). (Issue 5's link-quality ranking will refine this
// choice.)
type custodians struct {
	ov   *overlay.Overlay
	qual *linkquality.Monitor
}

func (c custodians) Custodian(skip identity.PeerID) (identity.PeerID, bool) {
	score := func(identity.PeerID) float64 { return 0 }
	if c.qual != nil {
		score = c.qual.FailScore
	}
	return pickCustodian(c.ov.Links(), skip, c.ov.Online, score)
}

// CustodyFailed counts a custodian that did not acknowledge a request
// (chat/custodyfail.go) against its reputation, as a relay that granted
// nothing is (relayrep.go).
func (c custodians) CustodyFailed(holder identity.PeerID) {
	if c.qual != nil {
		c.qual.Failed(holder, "custody_unacked")
	}
}

// pickCustodian is the choice of Custodian: least SRTT plus the reputation penalty.
func pickCustodian(links []overlay.LinkInfo, skip identity.PeerID, online func(identity.PeerID) bool, failScore func(identity.PeerID) float64) (identity.PeerID, bool) {
	var best identity.PeerID
	var bestCost time.Duration
	found := false
	perFailure := selection.DefaultWeights(selection.ChatForward).Failure * float64(time.Millisecond)
	for _, l := range links {
		if l.Peer == skip || !online(l.Peer) {
			continue
		}
		cost := l.Quality.SRTT + time.Duration(failScore(l.Peer)*perFailure)
		if !found || cost < bestCost {
			best, bestCost, found = l.Peer, cost, true
		}
	}
	return best, found
}

// setupChat wires the clock, rooms and chat service to the overlay.
func (n *Node) setupChat() error {
	n.clock = hlc.NewClock(n.cfg.Now, hlc.DefaultMaxDrift)
	last, err := n.db.LastHLC()
	if err != nil {
		return err
	}
	n.clock.Observe(hlc.Timestamp(last))
	if n.rooms, err = chat.NewRooms(n.id.ID, n.db, n.clock); err != nil {
		return err
	}
	n.chat, err = chat.New(chat.Config{
		Identity: n.id, Net: overlayNet{n.ov}, DB: n.db, Clock: n.clock, Emit: n.onChat,
		Log: n.log, Stats: &n.stats, Rooms: n.rooms, Custodians: custodians{n.ov, n.qual},
		Blocked: n.trust.isBlocked, Known: n.knownPeer, Now: n.cfg.Now,
		DeferDirectAcks: n.cfg.guest != nil && n.cfg.guest.sip, // devices.go: the phone confirms
	})
	if err != nil {
		return err
	}
	for _, typ := range []uint8{chat.TypeMessage, chat.TypeAck, chat.TypeSealed, chat.TypeRead,
		chat.TypeCustody, chat.TypeCustodyAck, chat.TypeHandover, chat.TypeHandoverDone} {
		n.ov.Handle(typ, n.chat.HandleDirect(typ))
	}
	n.ov.HandleRouted(chat.TypeSealed, n.chat.HandleRouted)
	n.profile.Extensions = n.extensions()
	return nil
}

// knownPeer says whether id may author chat frames here (chat.Config.Known): a
// peer whose record this node holds, or one in the roster with its key (seen
// before, e.g. the author of a message a custodian hands over while the author
// is long gone and its record expired).
func (n *Node) knownPeer(id identity.PeerID) bool {
	if n.ov.RecordOf(id) != nil {
		return true
	}
	p, ok, err := n.db.GetPeer(id.String())
	return err == nil && ok && len(p.PubKey) > 0
}

// extensions are the record extensions this node publishes: its rooms and its
// measured link quality.
func (n *Node) extensions() []overlay.Extension {
	exts := []overlay.Extension{{Type: chat.RecordExtRooms, Value: n.rooms.Ads()}, n.qual.Extension()}
	exts = append(exts, n.costMapExtensions()...) // node/costmapshare.go

	exts = append(exts, n.webExtensions()...)    // node/webcert.go
	exts = append(exts, n.deviceExtensions()...) // node/devicesrecord.go
	return append(exts, n.guestExtensions()...)  // node/guestsrecord.go
}

func (n *Node) onChat(ev chat.Event) {
	switch e := ev.(type) {
	case chat.Received:
		if e.Message.Room != "" {
			n.emit(RoomMessage{Room: e.Message.Room, ID: e.Message.ID, From: e.Message.From, Text: e.Message.Text, Sent: e.Message.Time})
		} else {
			n.emit(messageEvent(e.Message))
		}
	case chat.Delivered:
		n.emit(MessageDelivered{ID: e.ID, To: e.To})
	case chat.ReadBy:
		n.emit(MessagesRead{IDs: e.IDs, By: e.By})
	case chat.Queued:
		n.emit(MessageQueued{ID: e.ID, To: e.To})
	}
}

// roomsExt is the rooms advertisement of a record (nil: none).
func roomsExt(rec *overlay.Record) []byte {
	var ext []byte
	for _, e := range rec.Extensions {
		if e.Type == chat.RecordExtRooms {
			ext = e.Value
		}
	}
	return ext
}

// updateRooms applies a peer's rooms advertisement and reports rooms that changed.
func (n *Node) updateRooms(peer identity.PeerID, rec *overlay.Record) {
	if rec == nil {
		return
	}
	changed, err := n.rooms.UpdatePeer(peer, roomsExt(rec))
	if err != nil {
		n.stats.Add("rooms_ext_malformed", 1)
		return
	}
	for _, id := range changed {
		if info, ok := n.rooms.Info(id); ok {
			n.emit(RoomUpdate{Room: roomView(info)})
		}
	}
}

// republishExtensions puts the current rooms and link quality into the own record.
func (n *Node) republishExtensions() error {
	n.mu.Lock()
	n.profile.Extensions = n.extensions()
	prof := n.profile
	n.mu.Unlock()
	return n.ov.SetProfile(prof)
}

// Join joins (or creates) a room by ID or name.
func (n *Node) Join(room string) (Room, error) {
	info, err := n.rooms.Join(room)
	if err != nil {
		return roomView(info), err
	}
	n.emit(RoomUpdate{Room: roomView(info)})
	return roomView(info), n.republishExtensions()
}

// Leave leaves a room.
func (n *Node) Leave(room string) (Room, error) {
	info, err := n.rooms.Leave(room)
	if err != nil {
		return roomView(info), err
	}
	n.emit(RoomUpdate{Room: roomView(info)})
	return roomView(info), n.republishExtensions()
}

// SetTopic sets a room's topic.
func (n *Node) SetTopic(room, topic string) (Room, error) {
	info, err := n.rooms.SetTopic(room, topic)
	if err != nil {
		return roomView(info), err
	}
	n.emit(RoomUpdate{Room: roomView(info)})
	return roomView(info), n.republishExtensions()
}

// Rooms lists known rooms.
func (n *Node) Rooms() []Room { return views(n.rooms.List(), roomView) }

// Say writes to a room.
func (n *Node) Say(room, text string) (Message, error) {
	m, err := n.chat.Say(room, text)
	return messageView(m), err
}

// conversation resolves a peer ID or room ID to a conversation key.
func (n *Node) conversation(peer, room string) (string, error) {
	switch {
	case peer != "" && room != "":
		return "", errors.New("give either a peer or a room, not both")
	case room != "":
		if _, ok := n.rooms.Info(room); !ok {
			return "", chat.ErrUnknownRoom
		}
		return store.RoomConv(room), nil
	case peer != "":
		id, err := identity.ParsePeerID(peer)
		if err != nil {
			return "", err
		}
		return store.DirectConv(id.String()), nil
	}
	return "", errors.New("name a peer or a room")
}

// History pages through a conversation, newest page first; Next continues.
func (n *Node) History(peer, room, before string, limit int) (Page, error) {
	conv, err := n.conversation(peer, room)
	if err != nil {
		return Page{}, err
	}
	p, err := n.db.History(conv, store.Cursor(before), limit)
	return pageView(p), err
}

// MarkRead marks a conversation read up to a message (or entirely).
func (n *Node) MarkRead(peer, room, upTo string) ([]string, error) {
	conv, err := n.conversation(peer, room)
	if err != nil {
		return nil, err
	}
	ids, err := n.chat.MarkRead(conv, upTo)
	if err != nil {
		return nil, fmt.Errorf("mark read: %w", err)
	}
	return ids, nil
}

// SendAsync queues a 1:1 message without waiting for its commit (benchmarks).
func (n *Node) SendAsync(to identity.PeerID, text string) (Message, <-chan error) {
	m, done := n.chat.SendAsync(to, text)
	return messageView(m), done
}
