package app

import (
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

const (
	pageSize     = 50
	stateSending = "sending" // provisional: the core has not stored it yet
	stateFailed  = "failed"  // the core refused it
)

type convItem struct {
	kind itemKind
	day  time.Time // a separator's day (any time in it, local)
	msg  int       // index into convView.msgs
	h    float32   // the row's height
}

// convView is the open conversation: header, messages (paged in from history as
// the user scrolls up), the offline notice and the composer.
type convView struct {
	u          *ui
	key        node.Conv
	peer, room string
	gen        int // bumps on every open, so late results for another conversation are dropped

	msgs    []node.Message // oldest first
	index   map[string]int // message ID → index in msgs
	items   []convItem
	msgItem []int // index in msgs → index in items
	wraps   map[string][]string
	next    string             // cursor of the older page ("" when none)
	heights map[string]float32 // message ID → bubble height, so a page load does not re-measure every row
	loading bool
	armed   bool // binding the "older" row loads the older page
	seq     int
	olderH  float32 // height of the "older" row

	// found is the message a search result opened (marked while the
	// conversation stays open); target is that message until it is in view.
	found, target string

	header  *convHeader
	list    *widget.List // replaced by rebuild (see there)
	listBox *fyne.Container
	// newBelow ("New messages ↓") floats over the list while messages that came
	// in are below the part the user scrolled up to read.
	newBelow *widget.Button
	newBox   *fyne.Container
	composer *composer
	send     *widget.Button
	attach   *tipButton // nil when the core cannot send files
	notice   *widget.Label
	body     fyne.CanvasObject
	empty    fyne.CanvasObject
	root     *fyne.Container

	// urgent: the next message goes out urgent (nil without an urgent core).
	urgent *widget.Check
	// talk is the push-to-talk row of a room (ptt.go; nil without a PTT core).
	talk *talkBar
}

func newConvView(u *ui) *convView {
	c := &convView{u: u, index: map[string]int{}, wraps: map[string][]string{}, heights: map[string]float32{}}
	c.header = newConvHeader(c)
	c.list = c.newList()
	c.newBelow = widget.NewButtonWithIcon("New messages", theme.MoveDownIcon(), c.jumpToNewest)
	c.newBelow.IconPlacement = widget.ButtonIconTrailingText
	c.newBelow.Importance = widget.HighImportance
	c.newBelow.Hide()
	c.newBox = container.NewBorder(nil, container.NewPadded(container.NewCenter(c.newBelow)), nil, nil)
	c.listBox = container.NewStack(c.list, c.newBox)
	c.composer = newComposer(u, c.submit)
	c.send = widget.NewButton("Send", c.composer.send)
	c.send.Importance = widget.HighImportance
	c.notice = widget.NewLabel("")
	c.notice.Importance = widget.WarningImportance
	c.notice.Wrapping = fyne.TextWrapWord
	c.notice.Hide()
	var left fyne.CanvasObject
	if u.files != nil {
		c.attach = newTipButton(u, "", theme.MailAttachmentIcon(), u.pickFiles)
		left = c.attach
	}
	var right fyne.CanvasObject = c.send
	if u.urgentCore() != nil {
		c.urgent = widget.NewCheck("Urgent", nil)
		c.composer.onUrgent = c.submitUrgent
		right = container.NewHBox(c.urgent, c.send)
	}
	bottom := container.NewVBox(u.strip.object(), c.notice, container.NewBorder(nil, nil, left, right, c.composer))
	if pc := u.pttCore(); pc != nil {
		c.talk = newTalkBar(c, pc)
		c.talk.installKeys(u.win)
		bottom = container.NewVBox(c.talk.object(), bottom)
	}
	c.body = border(c.header.object(), c.listBox, bottom)
	keys := "Select a person or a room to start a conversation.\n\n" +
		"Ctrl+K filters; Enter there opens the first match.\n" +
		"Ctrl+0, Ctrl+1 and Ctrl+2 show Chats, People and Rooms.\n" +
		"Ctrl+N adds a peer by address."
	if _, ok := u.core.(searchCore); ok {
		keys += "\nCtrl+F searches every conversation."
	}
	hint := widget.NewLabel(keys)
	hint.Alignment = fyne.TextAlignCenter
	c.empty = container.NewCenter(hint)
	c.root = container.NewStack(c.empty)
	return c
}

func (c *convView) object() fyne.CanvasObject { return c.root }

// openPeer and openRoom show a conversation (idempotent).
func (u *ui) openPeer(id string) { u.conv.open(id, "") }
func (u *ui) openRoom(id string) { u.conv.open("", id) }

func (c *convView) open(peer, room string) {
	key := node.ConvOf(peer, room)
	if key == c.key {
		return
	}
	c.gen++
	gen := c.gen
	c.key, c.peer, c.room = key, peer, room
	c.msgs, c.index, c.wraps, c.next = nil, map[string]int{}, map[string][]string{}, ""
	c.heights = map[string]float32{}
	c.loading, c.armed = true, false
	c.found, c.target = "", ""
	c.setNewBelow(false)
	c.rebuild()
	c.root.Objects = []fyne.CanvasObject{c.body}
	c.root.Refresh()
	c.u.strip.refresh()
	c.refreshHeader()
	c.u.roster.reselect()
	c.u.roomsV.reselect()
	c.u.chats.reselect()
	if c.u.unread[key] > 0 {
		c.u.unread[key] = 0
		c.u.unreadChanged()
	}
	c.u.markRead(peer, room, "")
	background(c.u, func() (node.Page, error) { return c.u.core.History(peer, room, "", pageSize) },
		func(p node.Page, err error) {
			if gen != c.gen {
				return
			}
			c.loading = false
			if err != nil {
				c.u.showError("Reading the history", err)
				return
			}
			c.prepend(p.Messages)
			c.next = p.Next
			c.mergeFiles() // filetimeline.go
			c.rebuild()
			c.list.ScrollToBottom()
			c.armed = true
			c.revealTarget() // a search result opened the conversation (search.go)
		})
	if c.u.win != nil && !c.composer.Disabled() {
		c.u.win.Canvas().Focus(c.composer)
	}
}

// loadOlder fetches the page before the oldest shown message, keeping the view where
// it is.
func (c *convView) loadOlder() {
	if c.loading || c.next == "" || c.key == "" {
		return
	}
	c.loading = true
	gen, peer, room, cursor := c.gen, c.peer, c.room, string(c.next)
	background(c.u, func() (node.Page, error) { return c.u.core.History(peer, room, cursor, pageSize) },
		func(p node.Page, err error) {
			if gen != c.gen {
				return
			}
			c.loading = false
			if err != nil {
				c.u.showError("Reading older messages", err)
				c.refreshItem(0)
				return
			}
			offset, before := c.list.GetScrollOffset(), c.contentHeight()
			c.prepend(p.Messages)
			c.next = p.Next
			c.mergeFiles()
			c.armed = false
			c.rebuild()
			c.list.ScrollToOffset(offset + c.contentHeight() - before)
			c.armed = true
		})
	c.refreshItem(0)
}

// prepend puts older messages before the shown ones, skipping any already shown.
func (c *convView) prepend(ms []node.Message) {
	var add []node.Message
	for _, m := range ms {
		if _, ok := c.index[m.ID]; !ok {
			add = append(add, m)
		}
	}
	c.msgs = append(add, c.msgs...)
	c.reindex()
}

func (c *convView) reindex() {
	c.index = make(map[string]int, len(c.msgs))
	for i, m := range c.msgs {
		c.index[m.ID] = i
	}
}

// appendMessage adds a new message at the end (or updates one already shown) and
// follows it when the view was at the bottom or the message is our own.
func (c *convView) appendMessage(m node.Message) {
	if i, ok := c.index[m.ID]; ok {
		c.msgs[i] = m
		c.refreshItem(c.msgItem[i])
		return
	}
	follow := c.atBottom() || m.From == c.u.self.ID
	offset := c.list.GetScrollOffset()
	c.msgs = append(c.msgs, m)
	c.index[m.ID] = len(c.msgs) - 1
	armed := c.armed
	c.armed = false
	c.appendItems(len(c.msgs) - 1)
	if follow {
		c.list.ScrollToBottom()
		c.setNewBelow(false)
	} else {
		c.list.ScrollToOffset(offset)
		// The user is reading further up; say that something came, without
		// pulling the view away from what they read.
		c.setNewBelow(!c.newestInView())
	}
	c.armed = armed
}

// jumpToNewest scrolls to the newest message ("New messages ↓").
func (c *convView) jumpToNewest() {
	c.list.ScrollToBottom()
	c.setNewBelow(false)
}

func (c *convView) setNewBelow(on bool) {
	if c.newBelow.Visible() == on {
		return
	}
	if on {
		c.newBelow.Show()
	} else {
		c.newBelow.Hide()
	}
	c.newBox.Refresh()
}

// newestInView reports whether the newest row shows, at least its top.
func (c *convView) newestInView() bool {
	n := len(c.items)
	if n == 0 {
		return true
	}
	top := c.contentHeight() - c.items[n-1].h
	return top < c.list.GetScrollOffset()+c.list.Size().Height
}

// stateChanged redraws a message whose delivery state changed.
func (c *convView) stateChanged(id string) {
	if i, ok := c.index[id]; ok {
		c.refreshItem(c.msgItem[i])
	}
}

func (c *convView) refreshItem(i int) {
	if i >= 0 && i < len(c.items) {
		c.list.RefreshItem(i)
	}
}

func (c *convView) atBottom() bool {
	return c.list.GetScrollOffset()+c.list.Size().Height >= c.contentHeight()-40
}

func (c *convView) bind(i int, row *convRow) {
	if i >= len(c.items) {
		return
	}
	it := c.items[i]
	// The list binds a row as it scrolls into view: the newest one coming into
	// view means the user has scrolled down to the new messages.
	if i == len(c.items)-1 && c.newBelow.Visible() && c.newestInView() {
		c.setNewBelow(false)
	}
	switch it.kind {
	case kindOlder:
		if c.armed && !c.loading {
			c.loadOlder()
		}
		row.setOlder(c.loading)
	case kindDay:
		row.setDay(dayLabel(it.day, c.u.now()))
	default:
		m := c.msgs[it.msg]
		row.setBubble(c.bubble(m), m.ID, m.From)
	}
}

// bubble is how a message is shown.
func (c *convView) bubble(m node.Message) bubble {
	if id, ok := isFile(m); ok {
		return c.fileBubble(m, id) // filetimeline.go
	}
	own := m.From == c.u.self.ID
	lines, ok := c.wraps[m.ID]
	if !ok {
		lines = wrapText(m.Text, bubbleTextWidth, textSize())
		c.wraps[m.ID] = lines
	}
	b := bubble{own: own, lines: lines, text: m.Text, meta: m.Time.Local().Format("15:04"), found: m.ID == c.found,
		links: strings.Contains(m.Text, "://")}
	if c.room != "" && !own {
		b.name = c.u.peerName(m.From)
	}
	if own {
		state := c.u.shownState(m)
		if mark := stateMark(state, c.room != ""); mark != "" {
			b.meta += "  " + mark
		}
		b.failed = state == stateFailed
	}
	return b
}

// relabel redraws the day separators on screen after the date changed; the
// others are named afresh when they scroll into view.
func (c *convView) relabel() {
	for _, it := range c.items {
		if it.kind == kindDay {
			c.list.Refresh()
			return
		}
	}
}

// dayLabel names a day for a separator.
func dayLabel(t, now time.Time) string {
	y, m, d := t.Date()
	ny, nm, nd := now.Date()
	today := time.Date(ny, nm, nd, 0, 0, 0, 0, now.Location())
	day := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	switch {
	case day.Equal(today):
		return "Today"
	case day.Equal(today.AddDate(0, 0, -1)):
		return "Yesterday"
	case y == ny:
		return t.Format("Monday, 2 January")
	}
	return t.Format("Monday, 2 January 2006")
}
