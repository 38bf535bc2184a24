package headless

import (
	"context"
	"errors"
	"fmt"

	"parley/node"
)

// command is one entry of the command table: what its line must carry, what it
// needs of the node, how it runs and how it answers. Adding a command is adding
// an entry here (and a row in docs/headless.md, which a test checks).
type command struct {
	// check validates what need cannot say (one of two fields, a field that may
	// be empty but not absent). It runs before need, so topic without "topic"
	// and "room" reports "topic" only.
	check func(Command) error
	// need lists the fields that must be non-empty (names as in Command.field);
	// each missing one is reported as `<cmd>: missing field "<name>"`.
	need []string
	// uses lists the optional parts of the node the command needs, checked in
	// order before it runs: `<cmd>: <capability.missing>` when one is absent.
	uses []capability
	// reply names the event that answers success; "ok" replies also carry "cmd".
	reply string
	// run does the work and returns the reply's fields (nil for none). Its
	// error is prefixed with "<cmd>: " unless bareErrors.
	run func(ctx context.Context, s *Session, c Command) (any, error)
	// async runs the command in its own goroutine: dialing and hashing take
	// seconds, and other commands keep flowing meanwhile.
	async bool
	// bareErrors: run's error is the reason as it is. send, roster and relays
	// have always answered so; keep it for the scripts that match on it.
	bareErrors bool
	// quit ends the session (Run answers "bye").
	quit bool
}

// capability is an optional part of the node (calls, trust, files): a skin or a
// fake without it still satisfies Node, and its commands answer with an error.
type capability struct {
	has     func(Node) bool
	missing string
}

// commands is the headless protocol: every command by name.
var commands = map[string]command{
	"quit": {reply: "bye", quit: true},

	"roster": {reply: "roster", bareErrors: true,
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			peers, err := s.node.Roster()
			return map[string]any{"peers": peers}, err
		}},
	"self": {reply: "self",
		run: func(_ context.Context, s *Session, c Command) (any, error) { return s.node.Self(), nil }},
	"stats": {reply: "stats",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"counters": s.node.Stats()}, nil
		}},
	"links": {reply: "links",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"links": s.node.Links()}, nil
		}},
	"presence": {need: []string{"status"}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return nil, s.node.SetPresence(c.Status, c.Text)
		}},
	"name": {need: []string{"name"}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) { return nil, s.node.SetName(c.Name) }},
	"send": {need: []string{"to", "text"}, reply: "sent", bareErrors: true,
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			id, err := s.node.Send(c.To, c.Text)
			return map[string]any{"id": id, "to": c.To}, err
		}},
	"add_peer": {need: []string{"addr"}, reply: "ok", async: true,
		run: func(ctx context.Context, s *Session, c Command) (any, error) {
			id, err := s.node.AddPeer(ctx, c.Addr)
			return map[string]any{"id": id}, err
		}},
	"relays": {check: checkRelays, reply: "relays", bareErrors: true,
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			purpose := c.Purpose
			if purpose == "" {
				purpose = "voice"
			}
			return s.node.Relays(purpose, c.withTo(c.Peers))
		}},

	// Rooms and history.
	"rooms": {reply: "rooms",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"rooms": s.node.Rooms()}, nil
		}},
	"join": {need: []string{"room"}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			info, err := s.node.Join(c.Room)
			return map[string]any{"room": info}, err
		}},
	"leave": {need: []string{"room"}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			info, err := s.node.Leave(c.Room)
			return map[string]any{"room": info}, err
		}},
	"topic": {check: checkTopic, need: []string{"room"}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			info, err := s.node.SetTopic(c.Room, *c.Topic)
			return map[string]any{"room": info}, err
		}},
	"say": {need: []string{"room", "text"}, reply: "sent",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			m, err := s.node.Say(c.Room, c.Text)
			return map[string]any{"id": m.ID, "room": c.Room}, err
		}},
	"history": {check: oneOf("peer", "room"), reply: "history",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			page, err := s.node.History(c.Peer, c.Room, c.Before, c.Limit)
			return map[string]any{"peer": c.Peer, "room": c.Room, "messages": page.Messages, "next": page.Next}, err
		}},
	"search": {need: []string{"text"}, uses: []capability{messageSearch}, reply: "search", run: runSearch},
	"read": {check: oneOf("peer", "room"), reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			ids, err := s.node.MarkRead(c.Peer, c.Room, c.UpTo)
			return map[string]any{"ids": ids}, err
		}},

	// Calls.
	"call": {check: checkCall, uses: []capability{voiceCalls}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			if c.SIP != "" { // a phone by its URI, without registration
				h, ok := s.node.(SIPHoster)
				if !ok {
					return nil, errors.New(sipHosting.missing)
				}
				id, err := h.CallSIP(c.SIP)
				return map[string]any{"call": id, "sip": c.SIP}, err
			}
			peers := c.withTo(c.Peers)
			id, err := s.node.(Caller).Call(peers...)
			return map[string]any{"call": id, "peers": peers}, err
		}},
	"answer": {need: []string{"call"}, uses: []capability{voiceCalls}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"call": c.Call}, s.node.(Caller).Answer(c.Call)
		}},
	"decline": {need: []string{"call"}, uses: []capability{voiceCalls}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"call": c.Call}, s.node.(Caller).Decline(c.Call)
		}},
	"hangup": {need: []string{"call"}, uses: []capability{voiceCalls}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"call": c.Call}, s.node.(Caller).Hangup(c.Call)
		}},
	"mute": {need: []string{"call"}, uses: []capability{voiceCalls}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			on := c.on() // {"cmd":"mute","call":…} mutes; "on":false unmutes
			return map[string]any{"call": c.Call, "muted": on}, s.node.(Caller).Mute(c.Call, on)
		}},
	"dtmf": {need: []string{"call", "digits"}, uses: []capability{voiceCalls}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"call": c.Call}, s.node.(Caller).SendDTMF(c.Call, c.Digits)
		}},
	"calls": {uses: []capability{voiceCalls}, reply: "calls",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			calls := s.node.(Caller).Calls()
			if calls == nil {
				calls = []node.CallInfo{} // an empty list, not null
			}
			return map[string]any{"calls": calls}, nil
		}},

	// Trust decisions: {"cmd":"verify","peer":…,"on":true}.
	"verify": {need: []string{"peer"}, uses: []capability{trustDecisions}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			v, err := s.node.(Truster).SetVerified(c.Peer, c.on())
			return map[string]any{"peer": v}, err
		}},
	"block": {need: []string{"peer"}, uses: []capability{trustDecisions}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			v, err := s.node.(Truster).Block(c.Peer, c.on())
			return map[string]any{"peer": v}, err
		}},

	// Files.
	"send_file": {check: checkSendFile, uses: []capability{fileSharing}, reply: "file_sent", async: true,
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			paths := c.Paths
			if c.Path != "" {
				paths = append([]string{c.Path}, paths...)
			}
			ids, err := s.node.(FileSharer).SendFile(c.To, c.Room, paths...)
			return map[string]any{"ids": ids, "to": c.To, "room": c.Room}, err
		}},
	"accept_file": {need: []string{"id"}, uses: []capability{fileSharing}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"id": c.ID}, s.node.(FileSharer).AcceptFile(c.ID)
		}},
	"decline_file": {need: []string{"id"}, uses: []capability{fileSharing}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"id": c.ID}, s.node.(FileSharer).DeclineFile(c.ID)
		}},
	"cancel_file": {need: []string{"id"}, uses: []capability{fileSharing}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"id": c.ID}, s.node.(FileSharer).CancelFile(c.ID)
		}},
	"transfers": {uses: []capability{fileSharing}, reply: "transfers",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"transfers": s.node.(FileSharer).Transfers()}, nil
		}},
	// auto_accept without "on" only asks.
	"auto_accept": {uses: []capability{fileSharing, autoAccept}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			aa := s.node.(AutoAccepter)
			if c.On != nil {
				if err := aa.SetAutoAcceptVerified(*c.On); err != nil {
					return nil, err
				}
			}
			return map[string]any{"verified": aa.AutoAcceptVerified()}, nil
		}},

	// Browser guests: {"cmd":"admit_guest","guest":…,"on":true} answers a guest_request.
	"admit_guest": {check: checkAdmitGuest, need: []string{"guest"}, uses: []capability{guestHosting}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"guest": c.Guest, "on": *c.On}, s.node.(GuestHoster).AdmitGuest(c.Guest, *c.On)
		}},
	"remove_guest": {need: []string{"guest"}, uses: []capability{guestHosting}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"guest": c.Guest}, s.node.(GuestHoster).RemoveGuest(c.Guest)
		}},
	"guests": {uses: []capability{guestHosting}, reply: "guests",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			guests := s.node.(GuestHoster).Guests()
			if guests == nil {
				guests = []node.GuestView{} // an empty list, not null
			}
			return map[string]any{"guests": guests}, nil
		}},

	// SIP phones (headless/sip.go): {"cmd":"sip_account","user":…,"password":…}
	// makes or changes an account ("" deletes it); sip_accounts lists them.
	"sip_account": {need: []string{"user"}, uses: []capability{sipHosting}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"user": c.User}, s.node.(SIPHoster).SetSIPAccount(c.User, c.Password)
		}},
	"sip_accounts": {uses: []capability{sipHosting}, reply: "sip_accounts",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			accts, err := s.node.(SIPHoster).SIPAccounts()
			if accts == nil {
				accts = []node.SIPAccountView{} // an empty list, not null
			}
			return map[string]any{"accounts": accts, "realm": s.node.(SIPHoster).SIPRealm()}, err
		}},
	// {"cmd":"sip_listen","addr":":5060"} is the registrar's address from the
	// node's next start without --sip ("off": none); without "addr" it reports.
	"sip_listen": {uses: []capability{sipHosting}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			h := s.node.(SIPHoster)
			if c.Addr != "" {
				addr := c.Addr
				if addr == "off" {
					addr = ""
				}
				if err := h.SetSIPListen(addr); err != nil {
					return nil, err
				}
			}
			return map[string]any{"addr": orOff(h.SIPListen())}, nil
		}},
	// {"cmd":"sip_unregistered","on":true} lets phones that did not register
	// call this node's peers (off by default); without "on" it reports.
	"sip_unregistered": {uses: []capability{sipHosting}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			h := s.node.(SIPHoster)
			if c.On != nil {
				if err := h.SetSIPUnregistered(*c.On); err != nil {
					return nil, err
				}
			}
			return map[string]any{"on": h.SIPUnregistered()}, nil
		}},
}

// validate checks c's fields against the command's entry.
func (e command) validate(c Command) error {
	if e.check != nil {
		if err := e.check(c); err != nil {
			return err
		}
	}
	var missing []error
	for _, f := range e.need {
		if c.field(f) == "" {
			missing = append(missing, fmt.Errorf("%s: missing field %q", c.Cmd, f))
		}
	}
	return errors.Join(missing...)
}

// field returns the string field a need list names by its JSON name.
func (c Command) field(name string) string {
	switch name {
	case "to":
		return c.To
	case "text":
		return c.Text
	case "status":
		return c.Status
	case "addr":
		return c.Addr
	case "name":
		return c.Name
	case "room":
		return c.Room
	case "peer":
		return c.Peer
	case "call":
		return c.Call
	case "id":
		return c.ID
	case "guest":
		return c.Guest
	case "user":
		return c.User
	case "digits":
		return c.Digits
	}
	panic("headless: the command table needs an unknown field " + name) // TestCommandTableFields
}

// withTo puts "to", when given, in front of a list of peers.
func (c Command) withTo(peers []string) []string {
	if c.To != "" {
		return append([]string{c.To}, peers...)
	}
	return peers
}

// on reads a switch that is on unless "on":false.
func (c Command) on() bool { return c.On == nil || *c.On }

// oneOf checks that exactly one of two fields is given.
func oneOf(a, b string) func(Command) error {
	return func(c Command) error {
		if (c.field(a) == "") == (c.field(b) == "") {
			return fmt.Errorf("%s: give exactly one of %q or %q", c.Cmd, a, b)
		}
		return nil
	}
}

func checkTopic(c Command) error {
	if c.Topic == nil { // an empty topic clears it; an absent one is a mistake
		return errors.New(`topic: missing field "topic"`)
	}
	return nil
}

func checkRelays(c Command) error {
	if c.To == "" && len(c.Peers) == 0 && c.Purpose != "bulk" {
		return errors.New(`relays: missing field "to" (or "peers" for a mixer)`)
	}
	return nil
}

func checkCall(c Command) error {
	if c.SIP != "" && (c.To != "" || len(c.Peers) > 0) {
		return errors.New(`call: "sip" calls one phone, without "to" or "peers"`)
	}
	if c.To == "" && len(c.Peers) == 0 && c.SIP == "" {
		return errors.New(`call: missing field "to" (or "peers" for a group call)`)
	}
	return nil
}

// checkAdmitGuest wants the decision spelled out: a missing "on" must not admit.
func checkAdmitGuest(c Command) error {
	if c.On == nil {
		return errors.New(`admit_guest: missing field "on"`)
	}
	return nil
}

func checkSendFile(c Command) error {
	if err := oneOf("to", "room")(c); err != nil {
		return err
	}
	if c.Path == "" && len(c.Paths) == 0 {
		return errors.New(`send_file: missing field "path" (or "paths")`)
	}
	return nil
}

// Replies names, for every command of the table, the event that answers its
// success: what a client waits for (headless/client checks its own table
// against it).
func Replies() map[string]string {
	m := make(map[string]string, len(commands))
	for name, c := range commands {
		m[name] = c.reply
	}
	return m
}
