package headless

import (
	"errors"
	"fmt"

	"parley/node"
)

// Caller is the part of the node that runs voice calls. It is separate from
// Node so skins and fakes without calls still satisfy Node.
type Caller interface {
	Call(peers ...string) (string, error)
	Answer(id string) error
	Decline(id string) error
	Hangup(id string) error
	Mute(id string, on bool) error
	Calls() []node.CallInfo
}

// callCommands are the call commands and their required fields.
var callCommands = map[string]string{"call": "to", "answer": "call", "decline": "call", "hangup": "call", "mute": "call", "calls": ""}

// parseCall validates a call command; ok is false when c is not one.
func parseCall(c Command) (ok bool, err error) {
	field, ok := callCommands[c.Cmd]
	if !ok {
		return false, nil
	}
	switch field {
	case "to":
		if c.To == "" && len(c.Peers) == 0 {
			return true, fmt.Errorf(`%s: missing field "to" (or "peers" for a group call)`, c.Cmd)
		}
	case "call":
		if c.Call == "" {
			return true, fmt.Errorf(`%s: missing field "call"`, c.Cmd)
		}
	}
	return true, nil
}

// handleCall runs a call command (validated by parseCall).
func (s *Session) handleCall(c Command) {
	cn, ok := s.node.(Caller)
	if !ok {
		s.fail(c.Req, errors.New(c.Cmd+": this node has no voice calls"))
		return
	}
	switch c.Cmd {
	case "call":
		peers := c.Peers
		if c.To != "" {
			peers = append([]string{c.To}, peers...)
		}
		id, err := cn.Call(peers...)
		s.reply(c, err, map[string]any{"call": id, "peers": peers})
	case "answer":
		s.reply(c, cn.Answer(c.Call), map[string]any{"call": c.Call})
	case "decline":
		s.reply(c, cn.Decline(c.Call), map[string]any{"call": c.Call})
	case "hangup":
		s.reply(c, cn.Hangup(c.Call), map[string]any{"call": c.Call})
	case "mute":
		on := c.On == nil || *c.On // {"cmd":"mute","call":…} mutes; "on":false unmutes
		s.reply(c, cn.Mute(c.Call, on), map[string]any{"call": c.Call, "muted": on})
	case "calls":
		calls := cn.Calls()
		if calls == nil {
			calls = []node.CallInfo{}
		}
		s.write("calls", c.Req, map[string]any{"calls": calls})
	}
}

// Truster is the part of the node that keeps the user's trust decisions.
type Truster interface {
	SetVerified(peer string, on bool) (node.PeerView, error)
	Block(peer string, on bool) (node.PeerView, error)
}

// handleTrust runs verify and block: {"cmd":"verify","peer":…,"on":true}.
func (s *Session) handleTrust(c Command) {
	tn, ok := s.node.(Truster)
	if !ok {
		s.fail(c.Req, errors.New(c.Cmd+": not supported by this node"))
		return
	}
	on := c.On == nil || *c.On
	var v node.PeerView
	var err error
	if c.Cmd == "verify" {
		v, err = tn.SetVerified(c.Peer, on)
	} else {
		v, err = tn.Block(c.Peer, on)
	}
	s.reply(c, err, map[string]any{"peer": v})
}
