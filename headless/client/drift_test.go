package client

import (
	"parley/headless"
	"parley/node"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

// TestCommandsMatchHeadless fails when a command is added to the headless
// command table without a client method, or the other way round, or when the
// two disagree on the event that answers it.
func TestCommandsMatchHeadless(t *testing.T) {
	table := headless.Replies()
	ct := reflect.TypeOf(&Client{})
	for name, reply := range table {
		c, ok := commands[name]
		if !ok {
			t.Errorf("headless command %q has no client method (add it to commands.go)", name)
			continue
		}
		if c.reply != reply {
			t.Errorf("command %q: headless answers %q, the client waits for %q", name, reply, c.reply)
		}
		if _, ok := ct.MethodByName(c.method); !ok {
			t.Errorf("command %q: the client has no method %s", name, c.method)
		}
	}
	for name := range commands {
		if _, ok := table[name]; !ok {
			t.Errorf("client command %q is not in headless's table", name)
		}
	}
}

// TestDecodeEveryNodeEvent fails when package node gains an event that Decode
// does not know, or Decode maps a name to a type that reports another name.
func TestDecodeEveryNodeEvent(t *testing.T) {
	names := node.EventNames()
	if len(names) < 10 {
		t.Fatalf("found only %d event names in package node: %v", len(names), names)
	}
	for _, name := range names {
		if _, ok := events[name]; !ok {
			t.Errorf("node event %q is not decoded by the client (add it to decode.go)", name)
			continue
		}
		ev, err := Decode([]byte(`{"event":` + strconv.Quote(name) + `}`))
		if err != nil {
			t.Errorf("Decode(%q): %v", name, err)
			continue
		}
		if _, isReply := ev.(Reply); isReply || ev.EventName() != name {
			t.Errorf("Decode(%q) gives %T named %q", name, ev, ev.EventName())
		}
	}
	for name := range events {
		if !slices.Contains(names, name) {
			t.Errorf("the client decodes %q, which package node does not emit", name)
		}
	}
}
