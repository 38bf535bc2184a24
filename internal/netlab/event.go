package netlab

import (
	"encoding/json"
	"fmt"
	"time"

	"parley/headless/client"
	"parley/node"
)

// InvalidEvent is the name of the synthetic event recorded for a stdout line
// that is not a JSON object; its "raw" field holds the line and "error" the
// parse error. Tests can assert that none occurred.
const InvalidEvent = "netlab.invalid"

// Event is one JSON object the process printed on stdout. Treat it as
// read-only: the same map is shared by every caller that sees it.
type Event map[string]any

// Name is the event's "event" field.
func (e Event) Name() string { return e.Str("event") }

// Str is the string field key, or "" if absent or not a string.
func (e Event) Str(key string) string {
	s, _ := e[key].(string)
	return s
}

// Num is the numeric field key, or 0 if absent or not a number.
func (e Event) Num(key string) float64 {
	f, _ := e[key].(float64)
	return f
}

// PeerID is the "id" of the event's "peer" object (peer_up, peer_down,
// presence), or "".
func (e Event) PeerID() string {
	if p, ok := e["peer"].(map[string]any); ok {
		s, _ := p["id"].(string)
		return s
	}
	return ""
}

// Time is the event's "time" field (the node's clock when it emitted it), or
// the zero time.
func (e Event) Time() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, e.Str("time"))
	return t
}

// As decodes e into the node's event type T (client.Decode) when e is that
// event: As[node.PeerUp](e) in a WaitEvent match. ok is false for any other
// event, and for one whose fields do not decode.
func As[T node.Event](e Event) (v T, ok bool) {
	if e.Name() != v.EventName() {
		return v, false
	}
	raw, err := json.Marshal(map[string]any(e))
	if err != nil {
		return v, false
	}
	ev, err := client.Decode(raw)
	if err != nil {
		return v, false
	}
	v, ok = ev.(T)
	return v, ok
}

// String is the event as a JSON line, for messages.
func (e Event) String() string {
	b, err := json.Marshal(map[string]any(e))
	if err != nil {
		return fmt.Sprintf("%v", map[string]any(e))
	}
	return string(b)
}
