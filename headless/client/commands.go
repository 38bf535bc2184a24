package client

import (
	"parley/headless"
	"parley/node"
)

// commands is the client's side of the headless command table: for each
// command, the method that sends it and the event that answers it.
// TestCommandsMatchHeadless checks it against headless/commands.go both ways.
var commands = map[string]struct{ method, reply string }{
	"quit":         {"Quit", "bye"},
	"roster":       {"Roster", "roster"},
	"self":         {"Self", "self"},
	"stats":        {"Stats", "stats"},
	"links":        {"Links", "links"},
	"presence":     {"Presence", "ok"},
	"name":         {"SetName", "ok"},
	"send":         {"Send", "sent"},
	"add_peer":     {"AddPeer", "ok"},
	"relays":       {"Relays", "relays"},
	"rooms":        {"Rooms", "rooms"},
	"join":         {"Join", "ok"},
	"leave":        {"Leave", "ok"},
	"topic":        {"SetTopic", "ok"},
	"say":          {"Say", "sent"},
	"history":      {"History", "history"},
	"read":         {"MarkRead", "ok"},
	"call":         {"Call", "ok"},
	"answer":       {"Answer", "ok"},
	"decline":      {"Decline", "ok"},
	"hangup":       {"Hangup", "ok"},
	"mute":         {"Mute", "ok"},
	"dtmf":         {"SendDTMF", "ok"},
	"calls":        {"Calls", "calls"},
	"verify":       {"Verify", "ok"},
	"block":        {"Block", "ok"},
	"send_file":    {"SendFile", "file_sent"},
	"accept_file":  {"AcceptFile", "ok"},
	"decline_file": {"DeclineFile", "ok"},
	"cancel_file":  {"CancelFile", "ok"},
	"transfers":    {"Transfers", "transfers"},
	"auto_accept":  {"AutoAccept", "ok"},
	"admit_guest":  {"AdmitGuest", "ok"},
	"remove_guest": {"RemoveGuest", "ok"},
	"guests":       {"Guests", "guests"},
	"sip_account":  {"SetSIPAccount", "ok"},
	"sip_accounts": {"SIPAccounts", "sip_accounts"},
	// "call" with "sip" is CallSIP.
	"sip_unregistered": {"SIPUnregistered", "ok"},
	"sip_listen":       {"SIPListen", "ok"},
	"search":           {"Search", "search"},
	// Urgent items (urgent.go); "urgent":true on send, say and call is
	// SendUrgent, SayUrgent and CallUrgent there.
	"alert":         {"Alert", "ok"},
	"ack":           {"Ack", "ok"},
	"cancel_urgent": {"CancelUrgent", "ok"},
	"unacked":       {"Unacked", "unacked"},
	// Push-to-talk (ptt.go).
	"talkgroup":  {"SetTalkgroup", "ok"},
	"ptt":        {"PTT", "ok"},
	"ptt_replay": {"PTTReplay", "ok"},
}

// args are a command's fields: headless's own Command, so a field added there
// is one the client can send (Cmd and Req are set by commandLine).
type args = headless.Command

// run sends cmd and decodes its answer into out, the reply named in commands.
func (c *Client) run(cmd string, a *args, out any) error {
	var fields any
	if a != nil {
		fields = a
	}
	return c.Do(cmd, fields, commands[cmd].reply, out)
}

// Quit asks the process to end. It does not wait: the "bye" answer carries no
// "req" (wait for the exit instead).
func (c *Client) Quit() error { return c.Raw([]byte(`{"cmd":"quit"}`)) }

// Roster lists the known peers.
func (c *Client) Roster() ([]node.PeerView, error) {
	var r struct {
		Peers []node.PeerView `json:"peers"`
	}
	err := c.run("roster", nil, &r)
	return r.Peers, err
}

// Self is the node's own identity and addresses (the "ready" fields).
func (c *Client) Self() (node.Ready, error) {
	var r node.Ready
	err := c.run("self", nil, &r)
	return r, err
}

// Stats are the node's counters by name.
func (c *Client) Stats() (map[string]uint64, error) {
	var r struct {
		Counters map[string]uint64 `json:"counters"`
	}
	err := c.run("stats", nil, &r)
	return r.Counters, err
}

// Links lists the direct links.
func (c *Client) Links() ([]Link, error) {
	var r struct {
		Links []Link `json:"links"`
	}
	err := c.run("links", nil, &r)
	return r.Links, err
}

// Presence sets the presence (available, away, busy) and status text.
func (c *Client) Presence(status, text string) error {
	return c.run("presence", &args{Status: status, Text: text}, nil)
}

// SetName sets the display name.
func (c *Client) SetName(name string) error { return c.run("name", &args{Name: name}, nil) }

// Send sends text to a peer and returns the message's ID.
func (c *Client) Send(to, text string) (string, error) {
	var r struct {
		ID string `json:"id"`
	}
	err := c.run("send", &args{To: to, Text: text}, &r)
	return r.ID, err
}

// AddPeer dials addr (host:port) and returns the peer's ID.
func (c *Client) AddPeer(addr string) (string, error) {
	var r struct {
		ID string `json:"id"`
	}
	err := c.run("add_peer", &args{Addr: addr}, &r)
	return r.ID, err
}

// Relays ranks relays for purpose (chat, voice, mixer, bulk; "" is voice)
// between this node and the peers to.
func (c *Client) Relays(purpose string, to ...string) (node.RelayChoice, error) {
	var r node.RelayChoice
	a := &args{Purpose: purpose}
	if len(to) == 1 {
		a.To = to[0]
	} else {
		a.Peers = to
	}
	err := c.run("relays", a, &r)
	return r, err
}

// Rooms lists the known rooms.
func (c *Client) Rooms() ([]Room, error) {
	var r struct {
		Rooms []Room `json:"rooms"`
	}
	err := c.run("rooms", nil, &r)
	return r.Rooms, err
}

type roomReply struct {
	Room Room `json:"room"`
}

// Join joins (or creates) a room by ID or name.
func (c *Client) Join(room string) (Room, error) {
	var r roomReply
	err := c.run("join", &args{Room: room}, &r)
	return r.Room, err
}

// Leave leaves a room.
func (c *Client) Leave(room string) (Room, error) {
	var r roomReply
	err := c.run("leave", &args{Room: room}, &r)
	return r.Room, err
}

// SetTopic sets a room's topic ("" clears it).
func (c *Client) SetTopic(room, topic string) (Room, error) {
	var r roomReply
	err := c.run("topic", &args{Room: room, Topic: &topic}, &r)
	return r.Room, err
}

// Say posts text in a room and returns the message's ID.
func (c *Client) Say(room, text string) (string, error) {
	var r struct {
		ID string `json:"id"`
	}
	err := c.run("say", &args{Room: room, Text: text}, &r)
	return r.ID, err
}

// HistoryQuery selects a page of one conversation: Peer or Room, the cursor
// Before ("" for the newest) and at most Limit messages (0: the node's default).
type HistoryQuery struct {
	Peer, Room, Before string
	Limit              int
}

// History returns a page of a conversation.
func (c *Client) History(q HistoryQuery) (Page, error) {
	var r Page
	err := c.run("history", &args{Peer: q.Peer, Room: q.Room, Before: q.Before, Limit: q.Limit}, &r)
	return r, err
}

// MarkRead marks a conversation (peer or room) read up to a message ID ("" for
// all) and returns the IDs it marked.
func (c *Client) MarkRead(peer, room, upTo string) ([]string, error) {
	var r struct {
		IDs []string `json:"ids"`
	}
	err := c.run("read", &args{Peer: peer, Room: room, UpTo: upTo}, &r)
	return r.IDs, err
}

// Call calls one peer, or several for a group call, and returns the call's ID.
func (c *Client) Call(peers ...string) (string, error) {
	var r struct {
		Call string `json:"call"`
	}
	a := &args{}
	if len(peers) == 1 {
		a.To = peers[0]
	} else {
		a.Peers = peers
	}
	err := c.run("call", a, &r)
	return r.Call, err
}

// Answer accepts an incoming call.
func (c *Client) Answer(call string) error { return c.run("answer", &args{Call: call}, nil) }

// Decline refuses an incoming call.
func (c *Client) Decline(call string) error { return c.run("decline", &args{Call: call}, nil) }

// Hangup ends a call.
func (c *Client) Hangup(call string) error { return c.run("hangup", &args{Call: call}, nil) }

// Mute mutes (on) or unmutes a call's microphone.
func (c *Client) Mute(call string, on bool) error {
	return c.run("mute", &args{Call: call, On: &on}, nil)
}

// SendDTMF sends keypad digits (0-9 * # A-D) to the others in call.
func (c *Client) SendDTMF(call, digits string) error {
	return c.run("dtmf", &args{Call: call, Digits: digits}, nil)
}

// Calls lists the calls in progress.
func (c *Client) Calls() ([]node.CallInfo, error) {
	var r struct {
		Calls []node.CallInfo `json:"calls"`
	}
	err := c.run("calls", nil, &r)
	return r.Calls, err
}

type peerReply struct {
	Peer node.PeerView `json:"peer"`
}

// Verify marks a peer verified (on) or not, and returns it.
func (c *Client) Verify(peer string, on bool) (node.PeerView, error) {
	var r peerReply
	err := c.run("verify", &args{Peer: peer, On: &on}, &r)
	return r.Peer, err
}

// Block blocks (on) or unblocks a peer, and returns it.
func (c *Client) Block(peer string, on bool) (node.PeerView, error) {
	var r peerReply
	err := c.run("block", &args{Peer: peer, On: &on}, &r)
	return r.Peer, err
}

// SendFile offers files to a peer (to) or a room, one of the two, and returns
// one transfer ID per file. It answers once the files are hashed.
func (c *Client) SendFile(to, room string, paths ...string) ([]string, error) {
	var r struct {
		IDs []string `json:"ids"`
	}
	a := &args{To: to, Room: room}
	if len(paths) == 1 {
		a.Path = paths[0]
	} else {
		a.Paths = paths
	}
	err := c.run("send_file", a, &r)
	return r.IDs, err
}

// AcceptFile accepts a file offer.
func (c *Client) AcceptFile(id string) error { return c.run("accept_file", &args{ID: id}, nil) }

// DeclineFile declines a file offer.
func (c *Client) DeclineFile(id string) error { return c.run("decline_file", &args{ID: id}, nil) }

// CancelFile cancels a transfer.
func (c *Client) CancelFile(id string) error { return c.run("cancel_file", &args{ID: id}, nil) }

// Transfers lists every known transfer.
func (c *Client) Transfers() ([]Transfer, error) {
	var r struct {
		Transfers []Transfer `json:"transfers"`
	}
	err := c.run("transfers", nil, &r)
	return r.Transfers, err
}

type autoReply struct {
	Verified bool `json:"verified"`
}

// AutoAccept reports whether files from verified peers are accepted unasked.
func (c *Client) AutoAccept() (bool, error) {
	var r autoReply
	err := c.run("auto_accept", nil, &r)
	return r.Verified, err
}

// SetAutoAccept switches accepting files from verified peers unasked, and
// returns the new setting.
func (c *Client) SetAutoAccept(on bool) (bool, error) {
	var r autoReply
	err := c.run("auto_accept", &args{On: &on}, &r)
	return r.Verified, err
}

// AdmitGuest answers a guest_request: on admits the browser guest, else refuses it.
func (c *Client) AdmitGuest(guest string, on bool) error {
	return c.run("admit_guest", &args{Guest: guest, On: &on}, nil)
}

// RemoveGuest stops a guest's node now and forgets its admission.
func (c *Client) RemoveGuest(guest string) error {
	return c.run("remove_guest", &args{Guest: guest}, nil)
}

// Guests lists the node's browser guests, waiting ones first.
func (c *Client) Guests() ([]node.GuestView, error) {
	var r struct {
		Guests []node.GuestView `json:"guests"`
	}
	err := c.run("guests", nil, &r)
	return r.Guests, err
}

// SetSIPAccount makes or changes the SIP account user (an empty password deletes
// it); the node keeps only the digest's HA1.
func (c *Client) SetSIPAccount(user, password string) error {
	return c.run("sip_account", &args{User: user, Password: password}, nil)
}

// SIPAccounts lists the node's SIP accounts with their registration state, and
// the node's digest realm.
func (c *Client) SIPAccounts() (accounts []node.SIPAccountView, realm string, err error) {
	var r struct {
		Accounts []node.SIPAccountView `json:"accounts"`
		Realm    string                `json:"realm"`
	}
	err = c.run("sip_accounts", nil, &r)
	return r.Accounts, r.Realm, err
}

// CallSIP calls a phone on the LAN by its SIP URI, without registration
// (the node must run --sip); it returns the call's ID.
func (c *Client) CallSIP(uri string) (string, error) {
	var r struct {
		Call string `json:"call"`
	}
	err := c.run("call", &args{SIP: uri}, &r)
	return r.Call, err
}

// SIPUnregistered switches whether phones that did not register may call
// the node's peers (nil only reports), and returns the setting.
func (c *Client) SIPUnregistered(on *bool) (bool, error) {
	var r struct {
		On bool `json:"on"`
	}
	err := c.run("sip_unregistered", &args{On: on}, &r)
	return r.On, err
}

// SIPListen sets the address of the node's SIP registrar from its next start
// ("off": none; "" only reports) and returns the setting ("off" when none).
func (c *Client) SIPListen(addr string) (string, error) {
	var r struct {
		Addr string `json:"addr"`
	}
	err := c.run("sip_listen", &args{Addr: addr}, &r)
	return r.Addr, err
}

// Search finds messages in every conversation (case- and accent-blind), newest
// first; limit 0 is the node's default.
func (c *Client) Search(text string, limit int) ([]node.Message, error) {
	var r struct {
		Messages []node.Message `json:"messages"`
	}
	err := c.run("search", &args{Text: text, Limit: limit}, &r)
	return r.Messages, err
}
