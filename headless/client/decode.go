package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"parley/node"
)

// MaxLine bounds one output line the client reads (Serve) or decodes. The
// largest answers are history pages of 500 messages of up to 64 KiB text
// each; 16 MiB is what netlab's reader always allowed.
const MaxLine = 16 << 20

// events maps every event name the node emits to a decoder into its type,
// built from node.EventTypes, the node's one list of them.
var events = eventDecoders(node.EventTypes())

func eventDecoders(types []node.Event) map[string]func([]byte) (node.Event, error) {
	m := make(map[string]func([]byte) (node.Event, error), len(types))
	for _, e := range types {
		typ := reflect.TypeOf(e)
		m[e.EventName()] = func(line []byte) (node.Event, error) {
			v := reflect.New(typ)
			err := json.Unmarshal(line, v.Interface())
			return v.Elem().Interface().(node.Event), err
		}
	}
	return m
}

// Reply is a line that is no node event: the answer to a command ("ok",
// "sent", "roster", …), or an event this client does not know yet.
type Reply struct {
	Name string          // the "event" field
	Req  json.RawMessage // the "req" field, if any
	Line json.RawMessage // the whole line
}

// EventName is the line's "event" field.
func (r Reply) EventName() string { return r.Name }

// Decode turns one output line into the node's event type (node.PeerUp,
// node.MessageReceived, node.FileDone, …), or into a Reply for the answers to
// commands and for names it does not know. It fails on a line that is not a
// JSON object with a string "event", on a field of the wrong type, and on lines
// longer than MaxLine.
func Decode(line []byte) (node.Event, error) {
	if len(line) > MaxLine {
		return nil, fmt.Errorf("client: event line of %d bytes, over %d", len(line), MaxLine)
	}
	var env struct {
		Event *string         `json:"event"`
		Req   json.RawMessage `json:"req"`
	}
	if err := json.Unmarshal(line, &env); err != nil {
		return nil, fmt.Errorf("client: event line: %w", err)
	}
	if env.Event == nil {
		return nil, errors.New(`client: event line without "event"`)
	}
	decode, ok := events[*env.Event]
	if !ok {
		return Reply{Name: *env.Event, Req: env.Req, Line: append(json.RawMessage(nil), line...)}, nil
	}
	ev, err := decode(line)
	if err != nil {
		return nil, fmt.Errorf("client: %q event: %w", *env.Event, err)
	}
	return ev, nil
}
