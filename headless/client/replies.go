package client

import "time"

// The replies below mirror types of storage and transport packages (store,
// chat, overlay, files) field for field, JSON tags included, so that the client
// needs only node. They are the few points to reconcile when node owns these
// view types; TestRepliesDecodeGolden pins them to the protocol's bytes.

// Message is one message of a history page (store.Message on the wire).
type Message struct {
	ID    string    `json:"id"`
	Conv  string    `json:"conv"`
	From  string    `json:"from"`
	To    string    `json:"to,omitempty"`
	Room  string    `json:"room,omitempty"`
	Text  string    `json:"text"`
	HLC   uint64    `json:"hlc"`
	Time  time.Time `json:"time"`
	State string    `json:"state"`
}

// Page is the history reply: messages oldest first, and the cursor of the page
// before them ("" at the start of the conversation).
type Page struct {
	Peer     string    `json:"peer"`
	Room     string    `json:"room"`
	Messages []Message `json:"messages"`
	Next     string    `json:"next"`
}

// Room is one room (chat.RoomInfo on the wire).
type Room struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Topic   string   `json:"topic"`
	Members []string `json:"members"`
	Joined  bool     `json:"joined"`
}

// Link is one direct link (overlay.LinkInfo on the wire).
type Link struct {
	Peer     string      `json:"peer"`
	Remote   string      `json:"remote"`
	Outbound bool        `json:"outbound"`
	Since    time.Time   `json:"since"`
	Quality  LinkQuality `json:"quality"`
}

// LinkQuality is a link's measured quality (overlay.Quality on the wire).
type LinkQuality struct {
	SRTTus      int64   `json:"srtt_us"`
	RTTVarUs    int64   `json:"rttvar_us"`
	MinRTTus    int64   `json:"min_rtt_us"`
	Samples     uint64  `json:"samples"`
	PingsSent   uint64  `json:"pings_sent"`
	PingsLost   uint64  `json:"pings_lost"`
	JitterUs    int64   `json:"jitter_us"`
	Loss        float64 `json:"loss"`
	TxBps       float64 `json:"tx_bps"`
	RxBps       float64 `json:"rx_bps"`
	SegsSent    uint64  `json:"segs_sent,omitempty"`
	SegsRetrans uint64  `json:"segs_retrans,omitempty"`
}

// Transfer is one file transfer (files.Info on the wire).
type Transfer struct {
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
