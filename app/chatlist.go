package app

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// chatsView is the chat list (issue 20, item 7): every conversation with a
// message in it — 1:1 and joined rooms — newest activity first, each with the
// last message as a preview, its unread count and an initials avatar. Joined
// rooms with no message yet come last, so a room just created is there to
// open. The People and Rooms tabs beside it still list everyone and every room.
//
// The last message of each conversation comes from the pass that counts the
// unread messages at start (loadUnread reads each conversation's newest page
// anyway) and then from the events and own sends; no extra core call.
type chatsView struct {
	u    *ui
	list *widget.List
	rows []chatEntry
	hint *listHint
}

// chatEntry is one conversation as the list shows it.
type chatEntry struct {
	key        node.Conv
	peer, room string
	last       node.Message // zero: no message yet (a joined, quiet room)
}

func newChatsView(u *ui) *chatsView {
	c := &chatsView{u: u, hint: newListHint()}
	c.list = widget.NewList(
		func() int { return len(c.rows) },
		func() fyne.CanvasObject { return newChatRow() },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(c.rows) {
				c.bind(c.rows[i], o.(*chatRow))
			}
		})
	c.list.OnSelected = func(i widget.ListItemID) {
		if i < len(c.rows) {
			c.u.conv.open(c.rows[i].peer, c.rows[i].room)
		}
	}
	return c
}

func (c *chatsView) object() fyne.CanvasObject { return c.hint.over(c.list) }

// title is a conversation's name: the peer's (told apart from namesakes) or "# room".
func (c *chatsView) title(e chatEntry) string {
	if e.room != "" {
		return "# " + c.u.roomName(e.room)
	}
	p, ok := c.u.peers[e.peer]
	if !ok {
		return c.u.peerName(e.peer)
	}
	name := p.Name
	if name == "" {
		name = shortID(p.ID)
	}
	return c.u.roster.tellApart(p, name) // samename.go
}

// preview is the last message as one line: "You: …" for own messages, "Name: …"
// in rooms, the text alone from the other side of a 1:1 chat.
func (c *chatsView) preview(e chatEntry) string {
	m := e.last
	if m.ID == "" {
		return "No messages yet"
	}
	text := strings.Join(strings.Fields(m.Text), " ") // one line, however it was written
	switch {
	case m.From == c.u.self.ID:
		return "You: " + text
	case e.room != "":
		return c.u.peerName(m.From) + ": " + text
	}
	return text
}

func (c *chatsView) bind(e chatEntry, row *chatRow) {
	id := e.peer
	if e.room != "" {
		id = e.room
	}
	title := c.title(e)
	avatarName := strings.TrimPrefix(title, "# ")
	if p, ok := c.u.peers[e.peer]; ok && e.room == "" && p.Name != "" {
		avatarName = p.Name // not the fingerprint tellApart may add
	}
	row.avatar.set(id, avatarName)
	row.title.SetText(title)
	row.preview.SetText(c.preview(e))
	when := ""
	if !e.last.Time.IsZero() {
		when = chatTime(e.last.Time, c.u.now())
	}
	row.when.SetText(when)
	row.setUnread(c.u.unread[e.key])
}

// chatTime is when the last message was written, as short as a chat list says
// it: the time today, "Yesterday", the weekday within a week, else the date.
func chatTime(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	day := func(x time.Time) time.Time { return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.Local) }
	days := int(day(now).Sub(day(t)).Hours()/24 + 0.5)
	switch {
	case days <= 0:
		return t.Format("15:04")
	case days == 1:
		return "Yesterday"
	case days < 7:
		return t.Format("Monday")
	case t.Year() == now.Year():
		return t.Format("2 Jan")
	}
	return t.Format("2 Jan 2006")
}

// refresh rebuilds the entries from the last messages and the joined rooms,
// applies the filter and keeps the open conversation selected.
func (c *chatsView) refresh() {
	c.rows = c.rows[:0]
	seen := map[node.Conv]bool{}
	for key, m := range c.u.last {
		peer, room := convParts(key)
		if room != "" {
			if r, ok := c.u.rooms[room]; ok && !r.Joined {
				continue // left: no longer a chat, still in Rooms
			}
		}
		if p, ok := c.u.peers[peer]; ok && p.Blocked {
			continue
		}
		seen[key] = true
		c.rows = append(c.rows, chatEntry{key: key, peer: peer, room: room, last: m})
	}
	for id, r := range c.u.rooms {
		if key := node.RoomConv(id); r.Joined && !seen[key] {
			c.rows = append(c.rows, chatEntry{key: key, room: id})
		}
	}
	c.rows = slices.DeleteFunc(c.rows, func(e chatEntry) bool {
		return !c.u.matchesFilter(c.title(e), e.last.Text)
	})
	slices.SortFunc(c.rows, func(a, b chatEntry) int {
		if d := b.last.Time.Compare(a.last.Time); d != 0 {
			return d
		}
		if d := cmp.Compare(b.last.HLC, a.last.HLC); d != 0 {
			return d
		}
		return strings.Compare(string(a.key), string(b.key))
	})
	c.list.Refresh()
	c.reselect()
	c.updateHint()
}

// convParts splits a conversation name into its peer or room.
func convParts(key node.Conv) (peer, room string) {
	s := string(key)
	if r, ok := strings.CutPrefix(s, string(node.RoomConv(""))); ok {
		return "", r
	}
	return strings.TrimPrefix(s, string(node.DirectConv(""))), ""
}

// reselect marks the open conversation without reopening it.
func (c *chatsView) reselect() {
	for i, e := range c.rows {
		if e.key == c.u.conv.key && c.u.conv.key != "" {
			c.list.Select(i) // open is idempotent
			return
		}
	}
	c.list.UnselectAll()
}

// index is the row of a conversation, or -1 (tests).
func (c *chatsView) index(key node.Conv) int {
	for i, e := range c.rows {
		if e.key == key {
			return i
		}
	}
	return -1
}

func (c *chatsView) updateHint() {
	switch {
	case len(c.rows) > 0:
		c.hint.hide()
	case strings.TrimSpace(c.u.filter.Text) != "":
		c.hint.show("No matching chats", "", nil)
	case !c.u.loaded:
		c.hint.hide()
	default:
		c.hint.show("No chats yet — pick someone in People or a room in Rooms to start one.",
			"Show People (Ctrl+1)", func() { c.u.selectTab(tabPeople) })
	}
}

// noteLast records m as the last message of its conversation when it is newer
// than the one known (or replaces it: same ID, or the provisional message
// replaced is the one shown), and redraws the chat list.
func (u *ui) noteLast(key node.Conv, m node.Message, replaces string) {
	if u.last == nil {
		u.last = map[node.Conv]node.Message{}
	}
	old, ok := u.last[key]
	switch {
	case !ok, old.ID == m.ID, replaces != "" && old.ID == replaces, !m.Time.Before(old.Time):
		u.last[key] = m
	default:
		return
	}
	if u.chats != nil {
		u.chats.refresh()
	}
}

// chatRow is one chat-list row: avatar, name and time, preview and unread badge.
type chatRow struct {
	widget.BaseWidget
	avatar  *avatar
	title   *widget.Label
	when    *subtleLabel
	preview *subtleLabel
	badge   *listRow // only its badge is shown (the one unread badge style)
	content fyne.CanvasObject
}

func newChatRow() *chatRow {
	r := &chatRow{
		avatar:  newAvatar(),
		title:   widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		when:    newSubtleLabel(theme.SizeNameCaptionText),
		preview: newSubtleLabel(theme.SizeNameCaptionText),
		badge:   newListRow(),
	}
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.when.Truncation = fyne.TextTruncateOff
	top := container.NewBorder(nil, nil, nil, r.when, r.title)
	bottom := container.NewBorder(nil, nil, nil, container.NewCenter(r.badge.badge), r.preview)
	texts := container.New(layout.NewCustomPaddedVBoxLayout(-theme.Padding()*2), top, bottom)
	r.content = container.NewBorder(nil, nil, container.NewCenter(r.avatar.box), nil, texts)
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer implements fyne.Widget.
func (r *chatRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.content) }

// setUnread shows the unread badge (nothing at zero).
func (r *chatRow) setUnread(n int) {
	was := r.badge.badge.Visible()
	r.badge.set("", "", "", false, n)
	if was != (n > 0) {
		r.content.(*fyne.Container).Refresh() // make room for the badge, or give it back
	}
}
