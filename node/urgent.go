package node

import (
	"context"
	"fmt"
	"slices"
	"time"

	"parley/identity"
	"parley/overlay"
	"parley/urgent"
)

// Urgent messages, urgent calls and all-hands alerts (issue 24; package urgent
// has the rules and the wire formats, docs/emergency.md the user's view).
//
// For a skin: an "urgent" or "alert" event is to be shown at once and kept on
// screen until the user acknowledges it (Ack), with an alarm whatever this
// node's presence: urgent items override busy (do-not-disturb). UrgentPending
// lists what is still unacknowledged here and what this node sent that waits,
// so a window that starts, or a second skin, can show it; "acknowledged" and
// "urgent_cancelled" events say when an item leaves either list.

// settingUrgent is the settings key that holds the urgent service's state:
// pending items are few (at most 64 out, 256 in), so one JSON value is enough.
const settingUrgent = "urgent"

// UrgentMessage: an urgent message for the user ("urgent"). From is its
// verified sender; Room is set when it was said in a room.
type UrgentMessage struct {
	ID   string    `json:"id"`
	From string    `json:"from"`
	Name string    `json:"name,omitempty"`
	Room string    `json:"room,omitempty"`
	Text string    `json:"text"`
	Sent time.Time `json:"sent"` // the sender's clock when sent
}

// AlertRaised: an all-hands alert ("alert"). From is who raised it (the
// origin's verified signature), whichever nodes it came through.
type AlertRaised struct {
	ID   string    `json:"id"`
	From string    `json:"from"`
	Name string    `json:"name,omitempty"`
	Text string    `json:"text"`
	Sent time.Time `json:"sent"` // the origin's clock when raised
}

// Acknowledged: By acknowledged urgent item ID at At (by By's clock). By
// is this node when the user acknowledged an item here (on any skin).
type Acknowledged struct {
	ID   string    `json:"id"`
	By   string    `json:"by"`
	Name string    `json:"name,omitempty"`
	At   time.Time `json:"at"`
}

// UrgentCancelled: the sender withdrew urgent item ID (By is its sender; this
// node when it cancelled its own).
type UrgentCancelled struct {
	ID string `json:"id"`
	By string `json:"by"`
}

func (UrgentMessage) EventName() string   { return "urgent" }
func (AlertRaised) EventName() string     { return "alert" }
func (Acknowledged) EventName() string    { return "acknowledged" }
func (UrgentCancelled) EventName() string { return "urgent_cancelled" }

// UrgentItem is one entry of UrgentPending: an item received and not yet
// acknowledged here (Incoming), or one this node sent (To lists a message's
// recipients, Acked who acknowledged and when).
type UrgentItem struct {
	ID    string               `json:"id"`
	From  string               `json:"from,omitempty"`
	Name  string               `json:"name,omitempty"`
	Alert bool                 `json:"alert,omitempty"`
	Room  string               `json:"room,omitempty"`
	Text  string               `json:"text"`
	Sent  time.Time            `json:"sent"`
	To    []string             `json:"to,omitempty"`
	Acked map[string]time.Time `json:"acked,omitempty"`
}

// UrgentList is what UrgentPending returns.
type UrgentList struct {
	Incoming []UrgentItem `json:"incoming"`
	Outgoing []UrgentItem `json:"outgoing"`
}

// urgentNet is the overlay as the urgent service sees it.
type urgentNet struct{ overlayNet }

func (u urgentNet) Neighbours() []identity.PeerID {
	links := u.ov.Links()
	out := make([]identity.PeerID, len(links))
	for i, l := range links {
		out[i] = l.Peer
	}
	return out
}

// setupUrgent makes the urgent service and registers its frames.
func (n *Node) setupUrgent() error {
	var err error
	n.urgent, err = urgent.New(urgent.Config{
		Identity: n.id, Net: urgentNet{overlayNet{n.ov}}, Blocked: n.trust.isBlocked,
		Load: func() ([]byte, error) {
			v, _, err := n.db.Setting(settingUrgent)
			return []byte(v), err
		},
		Save:  func(b []byte) error { return n.db.SetSetting(settingUrgent, string(b)) },
		Emit:  n.onUrgent,
		Stats: &n.stats, Now: n.cfg.Now, Log: n.log,
	})
	if err != nil {
		return fmt.Errorf("urgent: %w", err)
	}
	n.ov.Handle(urgent.TypeUrgent, func(from identity.PeerID, p []byte) { n.urgent.HandleUrgent(from, from, p) })
	n.ov.HandleRouted(urgent.TypeUrgent, func(src, via identity.PeerID, p []byte) { n.urgent.HandleUrgent(via, src, p) })
	n.ov.Handle(urgent.TypeAlert, func(from identity.PeerID, p []byte) { n.urgent.HandleAlert(from, p) })
	return nil
}

// onUrgentOverlay passes live alerts to a neighbour that just linked.
func (n *Node) onUrgentOverlay(ev overlay.Event) {
	if ev.Kind == overlay.LinkUp {
		n.urgent.LinkUp(ev.Peer)
	}
}

func (n *Node) runUrgent(ctx context.Context) { n.urgent.Run(ctx) }

func (n *Node) onUrgent(ev urgent.Event) {
	switch e := ev.(type) {
	case urgent.Received:
		it := e.Item
		if it.Alert {
			n.emit(AlertRaised{ID: it.ID.String(), From: it.From.String(), Name: n.nameOf(it.From), Text: it.Text, Sent: it.At})
		} else {
			n.emit(UrgentMessage{ID: it.ID.String(), From: it.From.String(), Name: n.nameOf(it.From), Room: it.Room, Text: it.Text, Sent: it.At})
		}
	case urgent.Acknowledged:
		n.emit(Acknowledged{ID: e.ID.String(), By: e.By.String(), Name: n.nameOf(e.By), At: e.At})
	case urgent.Cancelled:
		n.emit(UrgentCancelled{ID: e.ID.String(), By: e.By.String()})
	}
}

// SendUrgent sends an urgent message to one peer: it is sent again until the
// peer acknowledges it or CancelUrgent; an "acknowledged" event says when.
func (n *Node) SendUrgent(to, text string) (string, error) {
	id, err := identity.ParsePeerID(to)
	if err != nil {
		return "", err
	}
	u, err := n.urgent.Send([]identity.PeerID{id}, "", text)
	return u.String(), err
}

// SayUrgent sends an urgent message to every other member of a room, each of
// whom acknowledges it (one "acknowledged" event per member).
func (n *Node) SayUrgent(room, text string) (string, error) {
	if !n.rooms.Joined(room) {
		return "", fmt.Errorf("not in room %q", room)
	}
	members := slices.DeleteFunc(n.rooms.Members(room), func(p identity.PeerID) bool { return p == n.id.ID })
	if len(members) == 0 {
		return "", fmt.Errorf("room %q: nobody else to tell", room)
	}
	u, err := n.urgent.Send(members, room, text)
	return u.String(), err
}

// CallUrgent is Call for an urgent call: it rings a peer that is busy or
// already in a call (instead of being answered busy), and the callee's
// call_incoming says "urgent":true.
func (n *Node) CallUrgent(peers ...string) (string, error) { return n.call(true, peers) }

// Alert raises an all-hands alert: every node of the overlay (of the team, in
// a closed one) gets an "alert" event naming this node.
func (n *Node) Alert(text string) (string, error) {
	u, err := n.urgent.Alert(text)
	return u.String(), err
}

// Ack acknowledges an urgent message or alert received here; the sender gets
// an "acknowledged" event.
func (n *Node) Ack(id string) error {
	u, err := urgent.ParseID(id)
	if err != nil {
		return err
	}
	return n.urgent.Ack(u)
}

// CancelUrgent stops sending an urgent message (or re-flooding an alert) this
// node sent; recipients that have not acknowledged it get "urgent_cancelled".
func (n *Node) CancelUrgent(id string) error {
	u, err := urgent.ParseID(id)
	if err != nil {
		return err
	}
	return n.urgent.Cancel(u)
}

// UrgentPending lists the urgent items not yet acknowledged here and the ones
// this node sent and has not cancelled.
func (n *Node) UrgentPending() UrgentList {
	in, out := n.urgent.Pending()
	l := UrgentList{Incoming: []UrgentItem{}, Outgoing: []UrgentItem{}}
	for _, it := range in {
		l.Incoming = append(l.Incoming, UrgentItem{ID: it.ID.String(), From: it.From.String(), Name: n.nameOf(it.From),
			Alert: it.Alert, Room: it.Room, Text: it.Text, Sent: it.At})
	}
	for _, o := range out {
		v := UrgentItem{ID: o.ID.String(), Alert: o.Alert, Room: o.Room, Text: o.Text, Sent: o.At, Acked: map[string]time.Time{}}
		for _, p := range o.To {
			v.To = append(v.To, p.String())
		}
		for p, at := range o.Acked {
			v.Acked[p.String()] = at
		}
		l.Outgoing = append(l.Outgoing, v)
	}
	return l
}

// ErrUrgentRate is returned when this node raised 6 urgent items in the last
// minute (the cap every receiver also applies).
var ErrUrgentRate = urgent.ErrRate
