package app

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// roomsView lists the known rooms (joined first) and joins or creates one by name.
type roomsView struct {
	u      *ui
	list   *widget.List
	rows   []node.Room
	hint   *listHint // why the list is empty, when it is
	name   *keyEntry
	join   *widget.Button
	joined string // the room the last join opened (tests)
}

func newRoomsView(u *ui) *roomsView {
	r := &roomsView{u: u, hint: newListHint()}
	r.list = widget.NewList(
		func() int { return len(r.rows) },
		func() fyne.CanvasObject { return newListRow() },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(r.rows) {
				r.bind(r.rows[i], o.(*listRow))
			}
		})
	r.list.OnSelected = func(i widget.ListItemID) {
		if i < len(r.rows) {
			u.openRoom(r.rows[i].ID)
		}
	}
	r.name = newKeyEntry(u)
	// Rooms are open (issue 16, finding 11): anyone who knows a name can join and,
	// as a member, fetch the room's files.
	r.name.SetPlaceHolder("Room name — open: anyone on the network can join and see its files")
	r.name.OnSubmitted = func(string) { r.joinNamed() }
	r.join = widget.NewButton("Join / create", r.joinNamed)
	return r
}

func (r *roomsView) object() fyne.CanvasObject {
	join := container.NewBorder(nil, nil, nil, r.join, r.name)
	return container.New(layout.NewBorderLayout(nil, join, nil, nil), r.hint.over(r.list), join)
}

func (r *roomsView) bind(info node.Room, row *listRow) {
	sub := membersText(len(info.Members))
	if !info.Joined {
		sub = "not joined · " + sub
	}
	if info.Topic != "" {
		sub += " — " + info.Topic
	}
	row.set("", "# "+info.Name, sub, false, r.u.unread[node.ConvOf("", info.ID)])
}

// roomAudience says who can see and join a room: everyone running Parley on
// the network, or everyone in the team (rooms are open; issue 16).
func roomAudience(team string) string {
	if team == "" {
		return "Open to this network"
	}
	return "Open to the team"
}

func membersText(n int) string {
	if n == 1 {
		return "1 member"
	}
	return fmt.Sprintf("%d members", n)
}

// refresh re-sorts and re-filters the rooms.
func (r *roomsView) refresh() {
	r.rows = r.rows[:0]
	for _, info := range r.u.rooms {
		if r.u.matchesFilter(info.Name, info.Topic) {
			r.rows = append(r.rows, info)
		}
	}
	slices.SortFunc(r.rows, func(a, b node.Room) int {
		if a.Joined != b.Joined {
			if a.Joined {
				return -1
			}
			return 1
		}
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	r.list.Refresh()
	r.reselect()
	r.u.updateHints()
}

// reselect marks the open room without reopening it.
func (r *roomsView) reselect() {
	for i, info := range r.rows {
		if info.ID == r.u.conv.room && r.u.conv.room != "" {
			r.list.Select(i) // openRoom is idempotent
			return
		}
	}
	r.list.UnselectAll()
}

// joinNamed joins (or creates) the room named in the entry and opens it.
func (r *roomsView) joinNamed() {
	name := strings.TrimSpace(r.name.Text)
	if name == "" {
		return
	}
	r.join.Disable()
	r.u.joinRoom(name, func(info node.Room) {
		r.name.SetText("")
		r.joined = info.ID
	}, r.join.Enable)
}

// joinRoom joins a room by ID or name in the background and opens it.
func (u *ui) joinRoom(room string, ok func(node.Room), done func()) {
	background(u, func() (node.Room, error) { return u.core.Join(room) },
		func(info node.Room, err error) {
			if done != nil {
				done()
			}
			if err != nil {
				u.showError("Joining "+room, err)
				return
			}
			u.upsertRoom(info)
			if ok != nil {
				ok(info)
			}
			u.tabs.SelectIndex(tabRooms)
			u.openRoom(info.ID)
		})
}

// leaveRoom leaves a room in the background.
func (u *ui) leaveRoom(room string) {
	background(u, func() (node.Room, error) { return u.core.Leave(room) },
		func(info node.Room, err error) {
			if err != nil {
				u.showError("Leaving the room", err)
				return
			}
			u.upsertRoom(info)
		})
}

// editTopic asks for a new topic and sets it in the background.
func (u *ui) editTopic(room string) {
	if u.win == nil {
		return
	}
	entry := newKeyEntry(u)
	entry.SetText(u.rooms[room].Topic)
	d := dialog.NewForm("Topic of #"+u.roomName(room), "Set", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Topic", entry)}, func(ok bool) {
			if !ok {
				return
			}
			topic := entry.Text
			background(u, func() (node.Room, error) { return u.core.SetTopic(room, topic) },
				func(info node.Room, err error) {
					if err != nil {
						u.showError("Setting the topic", err)
						return
					}
					u.upsertRoom(info)
				})
		}, u.win)
	entry.OnSubmitted = func(string) { d.Submit() }
	d.Resize(fyne.NewSize(460, 160))
	u.showDialog(d)
	u.win.Canvas().Focus(entry)
}

// showMembers lists a room's members.
func (u *ui) showMembers(room string) {
	if u.win == nil {
		return
	}
	info := u.rooms[room]
	names := make([]string, 0, len(info.Members))
	for _, m := range info.Members {
		names = append(names, u.peerName(m))
	}
	slices.Sort(names)
	text := strings.Join(names, "\n")
	if text == "" {
		text = "Nobody has joined this room yet."
	}
	u.showDialog(dialog.NewCustom("Members of #"+info.Name, "Close", widget.NewLabel(text), u.win))
}
