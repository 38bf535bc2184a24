package headless

import (
	"context"

	"parley/node"
)

// Urgenter is the part of the node that sends urgent messages, urgent calls
// and all-hands alerts (node/urgent.go, docs/emergency.md).
type Urgenter interface {
	SendUrgent(to, text string) (string, error)
	SayUrgent(room, text string) (string, error)
	CallUrgent(peers ...string) (string, error)
	Alert(text string) (string, error)
	Ack(id string) error
	CancelUrgent(id string) error
	UrgentPending() node.UrgentList
}

var urgentItems = capability{
	has:     func(n Node) bool { _, ok := n.(Urgenter); return ok },
	missing: "this node has no urgent messages",
}

// urgentOr runs an urgent variant of a command ("urgent":true on send, say and
// call) when asked for one, and the ordinary run otherwise.
func urgentOr(urgent func(s *Session, u Urgenter, c Command) (any, error),
	run func(ctx context.Context, s *Session, c Command) (any, error)) func(context.Context, *Session, Command) (any, error) {
	return func(ctx context.Context, s *Session, c Command) (any, error) {
		if !c.Urgent {
			return run(ctx, s, c)
		}
		u, ok := s.node.(Urgenter)
		if !ok {
			return nil, errorString(urgentItems.missing)
		}
		return urgent(s, u, c)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

func init() {
	wrap := func(name string, urgent func(s *Session, u Urgenter, c Command) (any, error)) {
		e := commands[name]
		e.run = urgentOr(urgent, e.run)
		commands[name] = e
	}
	wrap("send", func(_ *Session, u Urgenter, c Command) (any, error) {
		id, err := u.SendUrgent(c.To, c.Text)
		return map[string]any{"id": id, "to": c.To, "urgent": true}, err
	})
	wrap("say", func(_ *Session, u Urgenter, c Command) (any, error) {
		id, err := u.SayUrgent(c.Room, c.Text)
		return map[string]any{"id": id, "room": c.Room, "urgent": true}, err
	})
	wrap("call", func(_ *Session, u Urgenter, c Command) (any, error) {
		peers := c.withTo(c.Peers)
		id, err := u.CallUrgent(peers...)
		return map[string]any{"call": id, "peers": peers, "urgent": true}, err
	})
	commands["alert"] = command{need: []string{"text"}, uses: []capability{urgentItems}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			id, err := s.node.(Urgenter).Alert(c.Text)
			return map[string]any{"id": id}, err
		}}
	commands["ack"] = command{need: []string{"id"}, uses: []capability{urgentItems}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"id": c.ID}, s.node.(Urgenter).Ack(c.ID)
		}}
	commands["cancel_urgent"] = command{need: []string{"id"}, uses: []capability{urgentItems}, reply: "ok",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			return map[string]any{"id": c.ID}, s.node.(Urgenter).CancelUrgent(c.ID)
		}}
	commands["unacked"] = command{uses: []capability{urgentItems}, reply: "unacked",
		run: func(_ context.Context, s *Session, c Command) (any, error) {
			l := s.node.(Urgenter).UrgentPending()
			return map[string]any{"incoming": l.Incoming, "outgoing": l.Outgoing}, nil
		}}
}
