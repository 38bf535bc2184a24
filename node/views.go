package node

import (
	"time"

	"parley/chat"
	"parley/files"
	"parley/overlay"
	"parley/store"
)

// The view types: what the skins (the window, the headless protocol) see of the
// core's messages, rooms, links and transfers. They are the contract between
// the core and its skins, so their JSON tags are the headless protocol and live
// here only: the store's bbolt encoding, the chat service's rooms and the
// overlay's link counters can change without changing a reply
// (TestViewJSON pins every field name; headless/testdata/replies.golden pins
// whole replies). Each view is built from its core type by one function below.

// Conv names a conversation for the skins: a 1:1 chat with a peer (DirectConv)
// or a room (RoomConv). Its text is the protocol's "conv" field of a message;
// a skin uses it as an opaque key and never takes it apart.
type Conv string

// DirectConv names the 1:1 conversation with peer.
func DirectConv(peer string) Conv { return "d:" + Conv(peer) }

// RoomConv names a room's conversation.
func RoomConv(room string) Conv { return "r:" + Conv(room) }

// ConvOf names the conversation of a peer or, when room is set, of a room.
func ConvOf(peer, room string) Conv {
	if room != "" {
		return RoomConv(room)
	}
	return DirectConv(peer)
}

// convOfStored maps a store conversation key to the protocol's name of that
// conversation. The two schemes are spelt alike today (TestConvMatchesStore);
// this is the one place to change if the store's keys ever change.
func convOfStored(key string) Conv { return Conv(key) }

// Presence values: PeerView.Presence, and what SetPresence takes (all but
// offline, which only says a peer is not reachable).
const (
	PresenceAvailable = "available"
	PresenceAway      = "away"
	PresenceBusy      = "busy"
	PresenceOffline   = "offline"
)

// presenceView names a peer's published presence (TestPresenceMatchesOverlay).
func presenceView(p overlay.Presence) string {
	switch p {
	case overlay.Away:
		return PresenceAway
	case overlay.Busy:
		return PresenceBusy
	}
	return PresenceAvailable
}

// Message states as the skins see them. Outgoing: queued → sent → delivered →
// read. Incoming: received → read (by this user).
const (
	StateQueued    = "queued"
	StateSent      = "sent"
	StateDelivered = "delivered"
	StateRead      = "read"
	StateReceived  = "received"
)

// storedState maps a view state to the store's. They are spelt alike today
// (TestStatesMatchStore); the map is where they would part.
var storedState = map[string]string{
	StateQueued: store.StateQueued, StateSent: store.StateSent, StateDelivered: store.StateDelivered,
	StateRead: store.StateRead, StateReceived: store.StateReceived,
}

// StateAdvances says whether a message shown in state from moves forward to
// state to: the store's one ordering of message states (store.Advances), so a
// skin never shows a late, smaller receipt over a larger one.
func StateAdvances(from, to string) bool {
	return store.Advances(storedState[from], storedState[to])
}

// Message is one message of a conversation, incoming or outgoing.
type Message struct {
	ID    string    `json:"id"`
	Conv  Conv      `json:"conv"`
	From  string    `json:"from"`           // author peer ID
	To    string    `json:"to,omitempty"`   // recipient of a 1:1 message
	Room  string    `json:"room,omitempty"` // room ID of a room message
	Text  string    `json:"text"`
	HLC   uint64    `json:"hlc"`  // hybrid logical timestamp: the conversation order
	Time  time.Time `json:"time"` // author's wall clock when written
	State string    `json:"state"`
}

// viewState is storedState the other way round.
var viewState = func() map[string]string {
	out := make(map[string]string, len(storedState))
	for v, s := range storedState {
		out[s] = v
	}
	return out
}()

func messageView(m store.Message) Message {
	state, ok := viewState[m.State]
	if !ok {
		state = m.State
	}
	return Message{ID: m.ID, Conv: convOfStored(m.Conv), From: m.From, To: m.To, Room: m.Room,
		Text: m.Text, HLC: m.HLC, Time: m.Time, State: state}
}

// Page is one page of a conversation's history, oldest first; Next is the
// cursor of the older page ("" when there is none).
type Page struct {
	Messages []Message `json:"messages"`
	Next     string    `json:"next,omitempty"`
}

func pageView(p store.Page) Page {
	return Page{Messages: views(p.Messages, messageView), Next: string(p.Next)}
}

// views converts a list, keeping nil nil (the protocol tells null from []).
func views[T, V any](in []T, view func(T) V) []V {
	if in == nil {
		return nil
	}
	out := make([]V, len(in))
	for i, x := range in {
		out[i] = view(x)
	}
	return out
}

// Room is a room this node knows, joined or not.
type Room struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Topic   string   `json:"topic"`
	Members []string `json:"members"`
	Joined  bool     `json:"joined"`
}

func roomView(r chat.RoomInfo) Room {
	return Room{ID: r.ID, Name: r.Name, Topic: r.Topic, Members: r.Members, Joined: r.Joined}
}

// Link is one direct link and its measured quality.
type Link struct {
	Peer     string      `json:"peer"`
	Remote   string      `json:"remote"`
	Outbound bool        `json:"outbound"` // this node dialled it
	Since    time.Time   `json:"since"`
	Quality  LinkQuality `json:"quality"`
}

// LinkQuality is a link's measured quality. Times are integer microseconds,
// the unit the headless protocol uses for every RTT.
type LinkQuality struct {
	SRTTus   int64   `json:"srtt_us"`    // smoothed RTT of pings
	RTTVarUs int64   `json:"rttvar_us"`  // its variation
	MinRTTus int64   `json:"min_rtt_us"` // lowest RTT seen
	Samples  uint64  `json:"samples"`    // RTT samples taken
	Sent     uint64  `json:"pings_sent"`
	Lost     uint64  `json:"pings_lost"`
	JitterUs int64   `json:"jitter_us"` // smoothed difference of consecutive RTTs
	Loss     float64 `json:"loss"`      // recent ping loss rate, 0..1
	TxBps    float64 `json:"tx_bps"`    // recent throughput carried, bytes/s
	RxBps    float64 `json:"rx_bps"`
	// SegsSent and SegsRetrans are the kernel's TCP counters of the link's
	// connection (Linux TCP_INFO), absent where it cannot be read.
	SegsSent    uint64 `json:"segs_sent,omitempty"`
	SegsRetrans uint64 `json:"segs_retrans,omitempty"`
}

func linkView(l overlay.LinkInfo) Link {
	q := l.Quality
	return Link{Peer: l.Peer.String(), Remote: l.Remote, Outbound: l.Outbound, Since: l.Since,
		Quality: LinkQuality{SRTTus: q.SRTT.Microseconds(), RTTVarUs: q.RTTVar.Microseconds(),
			MinRTTus: q.MinRTT.Microseconds(), Samples: q.Samples, Sent: q.Sent, Lost: q.Lost,
			JitterUs: q.Jitter.Microseconds(), Loss: q.Loss, TxBps: q.TxBps, RxBps: q.RxBps,
			SegsSent: q.SegsSent, SegsRetrans: q.SegsRetrans}}
}

// Transfer states as the skins see them.
const (
	TransferOffered   = "offered"
	TransferActive    = "active"
	TransferDone      = "done"
	TransferDeclined  = "declined"
	TransferCancelled = "cancelled"
	TransferFailed    = "failed"
)

// Transfer is one file transfer, sent (Out) or received.
type Transfer struct {
	ID        string `json:"id"`
	Out       bool   `json:"out"`
	Name      string `json:"name"`
	MediaType string `json:"type,omitempty"`
	Size      uint64 `json:"size"`
	Bytes     uint64 `json:"bytes"` // transferred so far
	State     string `json:"state"`
	Peer      string `json:"peer,omitempty"` // the other end of a 1:1 transfer, or the sender
	Room      string `json:"room,omitempty"`
	Path      string `json:"path,omitempty"` // the local file
	Hash      string `json:"hash"`           // root hash (hex)
	Reason    string `json:"reason,omitempty"`
	// Time is when the offer was made here or reached here (this node's
	// clock, kept in the store): where the file sits in the conversation's
	// timeline (app/filetimeline.go).
	Time time.Time `json:"time,omitzero"`
}

// transferState maps the files service's states to the view's (alike today,
// TestTransferStatesMatchFiles).
var transferState = map[string]string{
	files.StateOffered: TransferOffered, files.StateActive: TransferActive, files.StateDone: TransferDone,
	files.StateDeclined: TransferDeclined, files.StateCancelled: TransferCancelled, files.StateFailed: TransferFailed,
}

func transferView(in files.Info) Transfer {
	state, ok := transferState[in.State]
	if !ok {
		state = in.State
	}
	return Transfer{ID: in.ID, Out: in.Out, Name: in.Name, MediaType: in.MediaType, Size: in.Size,
		Bytes: in.Bytes, State: state, Peer: in.Peer, Room: in.Room, Path: in.Path, Hash: in.Hash, Reason: in.Reason, Time: in.Created}
}
