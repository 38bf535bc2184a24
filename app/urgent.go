package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"parley/node"
)

// Urgent messages, urgent calls and all-hands alerts on the desktop (issue 24;
// docs/emergency.md). An urgent item received here sounds the alarm and stays
// in the band at the top of the window (alarmband.go) until the user
// acknowledges it, whatever the presence: busy is do-not-disturb for ordinary
// messages only, and the alarm is its own sound, so silencing the message
// chime or the ring does not silence it (the settings offer no switch for it).
// The window comes to the front, out of the tray if it was hidden there.

// urgentCore is optional: a core that sends and receives urgent items. Without
// it there is no Urgent switch, no Alert everyone and no band.
type urgentCore interface {
	SendUrgent(to, text string) (string, error)
	SayUrgent(room, text string) (string, error)
	CallUrgent(peers ...string) (string, error)
	Alert(text string) (string, error)
	Ack(id string) error
	CancelUrgent(id string) error
	UrgentPending() node.UrgentList
}

var _ urgentCore = (*node.Node)(nil)

// alarmRearm is how often the window asks for the alarm again while an item
// waits: the node ends a looping sound nobody stops after 2 minutes (maxLoop
// in node/sounds.go, a guard against a skin that went away), and the alarm
// must go on until the user acknowledges. TestAlarmRearmed re-measures it.
const alarmRearm = time.Minute

// urgentState is what the band shows: items received and not acknowledged,
// and items this node sent, by ID, each list oldest first.
type urgentState struct {
	in, out []node.UrgentItem
	acking  map[string]bool // an Ack is in flight for these
	// alarm: the window asked the core for the alarm; stopRearm ends the
	// ticker that asks again.
	alarm     bool
	stopRearm func()
}

func (u *ui) urgentCore() urgentCore {
	uc, _ := u.core.(urgentCore)
	return uc
}

// loadUrgent puts back on screen what a restart must not lose: the items
// still unacknowledged here and the ones this node sent that still wait.
func (u *ui) loadUrgent() {
	uc := u.urgentCore()
	if uc == nil {
		return
	}
	background(u, func() (node.UrgentList, error) { return uc.UrgentPending(), nil },
		func(l node.UrgentList, _ error) {
			for _, it := range l.Incoming {
				u.addIncoming(it)
			}
			for _, it := range l.Outgoing {
				u.addOutgoing(it)
			}
			u.urgentChanged(len(l.Incoming) > 0)
		})
}

// onUrgent and onAlert: an urgent item arrived.
func (u *ui) onUrgent(e node.UrgentMessage) {
	u.addIncoming(node.UrgentItem{ID: e.ID, From: e.From, Name: e.Name, Room: e.Room, Text: e.Text, Sent: e.Sent})
	u.urgentChanged(true)
	u.urgentNotify(e.From, e.Name, e.Room, e.Text, false)
}

func (u *ui) onAlert(e node.AlertRaised) {
	u.addIncoming(node.UrgentItem{ID: e.ID, From: e.From, Name: e.Name, Alert: true, Text: e.Text, Sent: e.Sent})
	u.urgentChanged(true)
	u.urgentNotify(e.From, e.Name, "", e.Text, true)
}

// onAcknowledged: by this node (here or on another skin), the item leaves the
// band; by another, the sender's card says who and when.
func (u *ui) onAcknowledged(e node.Acknowledged) {
	if e.By == u.self.ID {
		u.dropIncoming(e.ID)
		return
	}
	i := slices.IndexFunc(u.urg.out, func(it node.UrgentItem) bool { return it.ID == e.ID })
	if i < 0 {
		// Sent by another skin (a script through --control): the core's list
		// has it, with this ack.
		u.loadUrgent()
		return
	}
	it := &u.urg.out[i]
	if it.Acked == nil {
		it.Acked = map[string]time.Time{}
	}
	it.Acked[e.By] = e.At
	if e.Name != "" && u.peers[e.By].Name == "" {
		u.urgNames[e.By] = e.Name
	}
	u.urgentChanged(false)
}

// onUrgentCancelled: the sender withdrew an item (or this node its own).
func (u *ui) onUrgentCancelled(e node.UrgentCancelled) {
	if e.By == u.self.ID {
		u.urg.out = slices.DeleteFunc(u.urg.out, func(it node.UrgentItem) bool { return it.ID == e.ID })
		u.urgentChanged(false)
		return
	}
	u.dropIncoming(e.ID)
}

func (u *ui) addIncoming(it node.UrgentItem) {
	if slices.ContainsFunc(u.urg.in, func(x node.UrgentItem) bool { return x.ID == it.ID }) {
		return
	}
	if it.Name != "" {
		u.urgNames[it.From] = it.Name
	}
	u.urg.in = append(u.urg.in, it)
}

func (u *ui) addOutgoing(it node.UrgentItem) {
	if slices.ContainsFunc(u.urg.out, func(x node.UrgentItem) bool { return x.ID == it.ID }) {
		return
	}
	u.urg.out = append(u.urg.out, it)
}

func (u *ui) dropIncoming(id string) {
	n := len(u.urg.in)
	u.urg.in = slices.DeleteFunc(u.urg.in, func(it node.UrgentItem) bool { return it.ID == id })
	delete(u.urg.acking, id)
	if len(u.urg.in) != n {
		u.urgentChanged(false)
	}
}

// urgentChanged redraws the band and starts or stops the alarm; raise brings
// the window to the front (a new item, not a change of an old one).
func (u *ui) urgentChanged(raise bool) {
	u.alarms.refresh()
	u.tray.update()
	u.syncAlarm()
	if raise && u.alarmWanted() {
		u.showWindow() // background.go: out of the tray too
	}
}

// urgentNotify shows a desktop notification as well, for a window on another
// workspace or behind a full-screen one.
func (u *ui) urgentNotify(from, name, room, text string, alert bool) {
	who := u.urgentName(from, name)
	title := "URGENT from " + who
	switch {
	case alert:
		title = "ALERT from " + who
	case room != "":
		title += " in #" + u.roomName(room)
	}
	u.notify(title, text)
}

// urgentName is a sender's name: the roster's, else the one the core sent.
func (u *ui) urgentName(id, name string) string {
	if p, ok := u.peers[id]; ok && p.Name != "" {
		return p.Name
	}
	if n := u.urgNames[id]; n != "" {
		return n
	}
	if name != "" {
		return name
	}
	return u.peerName(id)
}

// alarmWanted: something here waits for the user — an unacknowledged item, or
// an urgent call ringing.
func (u *ui) alarmWanted() bool {
	if len(u.urg.in) > 0 {
		return true
	}
	s := u.call
	return s != nil && s.urgent && !s.outgoing && s.state == callIncoming && !s.answering
}

// syncAlarm starts the alarm when something waits and stops it when nothing
// does. It is asked of the core whatever the presence.
func (u *ui) syncAlarm() {
	sc := u.soundCore()
	want := u.alarmWanted()
	if sc == nil || want == u.urg.alarm {
		return
	}
	u.urg.alarm = want
	if want {
		u.soundDo(func() { sc.PlaySound(node.SoundAlarm) })
		ctx, cancel := context.WithCancel(u.ctx)
		u.urg.stopRearm = cancel
		go u.every(ctx, alarmRearm, u.rearmAlarm)
		return
	}
	if u.urg.stopRearm != nil {
		u.urg.stopRearm()
		u.urg.stopRearm = nil
	}
	u.soundDo(func() { sc.StopSound(node.SoundAlarm) })
}

// rearmAlarm asks for the alarm again while it is still wanted.
func (u *ui) rearmAlarm() {
	if sc := u.soundCore(); sc != nil && u.urg.alarm {
		u.soundDo(func() { sc.PlaySound(node.SoundAlarm) })
	}
}

// ack acknowledges an item received here; the acknowledged event (by this
// node) or the answer takes it off the band.
func (u *ui) ack(id string) {
	uc := u.urgentCore()
	if uc == nil || u.urg.acking[id] {
		return
	}
	u.urg.acking[id] = true
	u.alarms.refresh()
	background(u, func() (struct{}, error) { return struct{}{}, uc.Ack(id) },
		func(_ struct{}, err error) {
			delete(u.urg.acking, id)
			if err != nil {
				u.alarms.refresh()
				u.showError("Acknowledging", err)
				return
			}
			u.dropIncoming(id)
		})
}

// cancelUrgent stops an item this node sent; it leaves the band.
func (u *ui) cancelUrgent(id string) {
	uc := u.urgentCore()
	if uc == nil {
		return
	}
	background(u, func() (struct{}, error) { return struct{}{}, uc.CancelUrgent(id) },
		func(_ struct{}, err error) {
			if err != nil {
				u.showError("Cancelling the urgent message", err)
				return
			}
			u.urg.out = slices.DeleteFunc(u.urg.out, func(it node.UrgentItem) bool { return it.ID == id })
			u.urgentChanged(false)
		})
}

// dismissUrgent takes a sent item that everyone acknowledged off the band.
func (u *ui) dismissUrgent(id string) {
	u.urg.out = slices.DeleteFunc(u.urg.out, func(it node.UrgentItem) bool { return it.ID == id })
	u.urgentChanged(false)
}

// sendUrgent sends an urgent message into the open conversation. It is not a
// chat message (the core keeps it apart and retries it until acknowledged), so
// it shows in the band, not in the timeline.
func (u *ui) sendUrgent(peer, room, text string) {
	uc := u.urgentCore()
	if uc == nil || isBlank(text) {
		return
	}
	to := []string{peer}
	if room != "" {
		to = nil
		for _, m := range u.rooms[room].Members {
			if m != u.self.ID {
				to = append(to, m)
			}
		}
	}
	background(u, func() (string, error) {
		if room != "" {
			return uc.SayUrgent(room, text)
		}
		return uc.SendUrgent(peer, text)
	}, func(id string, err error) {
		if err != nil {
			u.showError("Sending the urgent message", urgentErr(err))
			return
		}
		u.addOutgoing(node.UrgentItem{ID: id, Room: room, Text: text, Sent: u.now(), To: to, Acked: map[string]time.Time{}})
		u.urgentChanged(false)
	})
}

// raiseAlert sends an all-hands alert.
func (u *ui) raiseAlert(text string) {
	uc := u.urgentCore()
	if uc == nil || isBlank(text) {
		return
	}
	background(u, func() (string, error) { return uc.Alert(text) }, func(id string, err error) {
		if err != nil {
			u.showError("Raising the alert", urgentErr(err))
			return
		}
		u.addOutgoing(node.UrgentItem{ID: id, Alert: true, Text: text, Sent: u.now(), Acked: map[string]time.Time{}})
		u.urgentChanged(false)
	})
}

// errUrgentRate is the rate cap said plainly.
var errUrgentRate = errors.New("you have sent 6 urgent messages or alerts in the last minute, " +
	"the most Parley sends. Wait a minute, then try again; meanwhile an ordinary message still goes out")

// urgentErr puts the rate cap in words a user in a hurry reads.
func urgentErr(err error) error {
	if errors.Is(err, node.ErrUrgentRate) {
		return errUrgentRate
	}
	return err
}
