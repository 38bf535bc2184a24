package app

import (
	"fmt"
	"log/slog"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// pttCore is optional: a core with push-to-talk talkgroups (node/ptt.go,
// docs/emergency.md).
type pttCore interface {
	SetTalkgroup(room string, on bool) error
	Talkgroups() []string
	PTT(room string, on bool) error
	PTTReplay(room string) error
}

func (u *ui) pttCore() pttCore {
	pc, _ := u.core.(pttCore)
	return pc
}

// talkBar is the push-to-talk row of a joined room: "Talkgroup" marks the
// room, the big "Hold to talk" button (or Space, held, while the message box
// is not focused) talks, "Replay" plays the last transmission, and a line
// says who is talking or where this node waits in the queue.
type talkBar struct {
	c      *convView
	core   pttCore
	group  *widget.Check
	hold   *holdButton
	replay *widget.Button
	status *widget.Label
	obj    *fyne.Container

	groups  map[string]bool   // rooms marked as talkgroups
	speaker map[string]string // room → who is talking now
	queued  map[string]int    // room → this node's place in the queue
	down    string            // the room whose key is down ("": none)
	// keys carries presses and releases, in order, to one goroutine: a
	// quick tap's release must not overtake its press, or the key would
	// stay down.
	keys chan keyOp
}

type keyOp struct {
	room string
	on   bool
}

func newTalkBar(c *convView, core pttCore) *talkBar {
	b := &talkBar{c: c, core: core, groups: map[string]bool{}, speaker: map[string]string{}, queued: map[string]int{},
		keys: make(chan keyOp, 16)}
	go b.sendKeys()
	for _, r := range core.Talkgroups() {
		b.groups[r] = true
	}
	b.group = widget.NewCheck("Talkgroup", b.setGroup)
	b.hold = newHoldButton("Hold to talk (Space)", b.press, b.release)
	b.hold.Importance = widget.HighImportance
	b.replay = widget.NewButton("Replay", b.replayLast)
	b.status = widget.NewLabel("")
	b.obj = container.NewBorder(nil, nil, b.group, b.replay, container.NewVBox(b.hold, b.status))
	b.obj.Hide()
	return b
}

func (b *talkBar) object() fyne.CanvasObject { return b.obj }

// refresh shows the bar for a joined room, the button for a talkgroup.
func (b *talkBar) refresh() {
	room := b.c.room
	r, ok := b.c.u.rooms[room]
	if room == "" || !ok || !r.Joined {
		b.obj.Hide()
		return
	}
	b.obj.Show()
	b.group.OnChanged = nil
	b.group.SetChecked(b.groups[room])
	b.group.OnChanged = b.setGroup
	if !b.groups[room] {
		b.hold.Hide()
		b.replay.Hide()
		b.status.Hide()
		return
	}
	b.hold.Show()
	b.replay.Show()
	b.status.Show()
	talking := b.speaker[room]
	switch {
	case talking == b.c.u.self.ID:
		b.status.SetText("You are talking — let go to stop")
	case talking != "" && b.queued[room] > 0:
		b.status.SetText(fmt.Sprintf("Channel busy: %s is talking — you are number %d in line", b.c.u.peerName(talking), b.queued[room]))
	case talking != "":
		b.status.SetText(b.c.u.peerName(talking) + " is talking")
	case b.queued[room] > 0:
		b.status.SetText(fmt.Sprintf("Waiting for the channel — number %d in line", b.queued[room]))
	default:
		b.status.SetText("Channel free")
	}
}

func (b *talkBar) setGroup(on bool) {
	room := b.c.room
	if err := b.core.SetTalkgroup(room, on); err != nil {
		b.c.u.showError("Push-to-talk", err)
		b.refresh()
		return
	}
	if on {
		b.groups[room] = true
	} else {
		delete(b.groups, room)
	}
	b.refresh()
}

func (b *talkBar) press() {
	room := b.c.room
	if room == "" || !b.groups[room] || b.down != "" {
		return
	}
	b.down = room
	b.keys <- keyOp{room, true}
}

func (b *talkBar) release() {
	room := b.down
	if room == "" {
		return
	}
	b.down = ""
	delete(b.queued, room)
	b.refresh()
	b.keys <- keyOp{room, false}
}

// sendKeys tells the core each press and release, in order. It lives as long
// as the window's process.
func (b *talkBar) sendKeys() {
	for k := range b.keys {
		if err := b.core.PTT(k.room, k.on); err != nil {
			slog.Warn("ptt", "room", k.room, "on", k.on, "err", err)
		}
	}
}

func (b *talkBar) replayLast() {
	if err := b.core.PTTReplay(b.c.room); err != nil {
		b.c.u.showError("Push-to-talk", err)
	}
}

func (b *talkBar) onState(e node.PTTState) {
	if e.On {
		b.speaker[e.Room] = e.Speaker
		if e.Speaker == b.c.u.self.ID {
			delete(b.queued, e.Room)
		}
	} else if b.speaker[e.Room] == e.Speaker {
		delete(b.speaker, e.Room)
	}
	if e.Room == b.c.room {
		b.refresh()
	}
}

func (b *talkBar) onBusy(e node.PTTBusy) {
	if b.down != e.Room {
		return // let go meanwhile
	}
	b.queued[e.Room] = e.Position
	if e.Room == b.c.room {
		b.refresh()
	}
}

// keyDown and keyUp are the window's Space: reached only while no widget
// that takes keys (the message box) has the focus.
func (b *talkBar) keyDown(k *fyne.KeyEvent) {
	if k.Name == fyne.KeySpace && b.obj.Visible() && b.hold.Visible() {
		b.press()
	}
}

func (b *talkBar) keyUp(k *fyne.KeyEvent) {
	if k.Name == fyne.KeySpace {
		b.release()
	}
}

// installKeys gives the window's Space to the bar (desktop drivers only).
func (b *talkBar) installKeys(w fyne.Window) {
	if w == nil {
		return
	}
	if dc, ok := w.Canvas().(desktop.Canvas); ok {
		dc.SetOnKeyDown(b.keyDown)
		dc.SetOnKeyUp(b.keyUp)
	}
}

// holdButton is a button that acts while held: down on mouse press (or Space
// while it has the focus), up on release.
type holdButton struct {
	widget.Button
	down, up func()
}

func newHoldButton(label string, down, up func()) *holdButton {
	h := &holdButton{down: down, up: up}
	h.Text = label
	h.ExtendBaseWidget(h)
	return h
}

func (h *holdButton) Tapped(*fyne.PointEvent)       {} // press and release did it
func (h *holdButton) MouseDown(*desktop.MouseEvent) { h.down() }
func (h *holdButton) MouseUp(*desktop.MouseEvent)   { h.up() }
func (h *holdButton) KeyDown(k *fyne.KeyEvent) {
	if k.Name == fyne.KeySpace {
		h.down()
	}
}
func (h *holdButton) KeyUp(k *fyne.KeyEvent) {
	if k.Name == fyne.KeySpace {
		h.up()
	}
}
func (h *holdButton) TypedKey(*fyne.KeyEvent) {} // Space is KeyDown/KeyUp, not a tap
