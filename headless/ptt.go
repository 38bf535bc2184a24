package headless

import (
	"context"
	"errors"
)

// Talker is the part of the node that does push-to-talk talkgroups
// (node/ptt.go, docs/emergency.md).
type Talker interface {
	SetTalkgroup(room string, on bool) error
	Talkgroups() []string
	PTT(room string, on bool) error
	PTTReplay(room string) error
}

var talkgroups = capability{
	has:     func(n Node) bool { _, ok := n.(Talker); return ok },
	missing: "this node has no push-to-talk",
}

// checkPTT wants the key's position spelled out: a missing "on" must not
// open a microphone to the whole room.
func checkPTT(c Command) error {
	if c.On == nil {
		return errors.New(`ptt: missing field "on"`)
	}
	return nil
}

func init() {
	// {"cmd":"talkgroup","room":ID,"on":true|false}: mark a joined room as a
	// talkgroup here ("on" defaults to true).
	commands["talkgroup"] = command{need: []string{"room"}, uses: []capability{talkgroups}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			t := s.node.(Talker)
			err := t.SetTalkgroup(c.Room, c.on())
			return map[string]any{"room": c.Room, "talkgroups": t.Talkgroups()}, err
		}}
	commands["ptt"] = command{check: checkPTT, need: []string{"room"}, uses: []capability{talkgroups}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"room": c.Room, "on": *c.On}, s.node.(Talker).PTT(c.Room, *c.On)
		}}
	commands["ptt_replay"] = command{need: []string{"room"}, uses: []capability{talkgroups}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"room": c.Room}, s.node.(Talker).PTTReplay(c.Room)
		}}
}
