package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// The side panel's tabs, in the order build adds them.
const (
	tabChats  = 0 // chatlist.go
	tabPeople = 1
	tabRooms  = 2
)

// selectTab shows a tab (Ctrl+1, Ctrl+2) and puts the keyboard focus in its
// list, where Up, Down and Space pick an entry: AppTabs' own tab buttons take
// no focus, so without this the Rooms tab could not be reached by keyboard.
func (u *ui) selectTab(i int) {
	u.tabs.SelectIndex(i)
	if u.win == nil {
		return
	}
	switch i {
	case tabChats:
		u.win.Canvas().Focus(u.chats.list)
	case tabRooms:
		u.win.Canvas().Focus(u.roomsV.list)
	default:
		u.win.Canvas().Focus(u.roster.list)
	}
}

// openFirstMatch opens the first entry the filter leaves (Enter in the filter
// box): in the tab on show, or in the other one when this one has none, so
// that typing a room's name on the People tab and pressing Enter still gets
// there.
func (u *ui) openFirstMatch() {
	people, rooms := len(u.roster.rows) > 0, len(u.roomsV.rows) > 0
	inRooms := u.tabs.SelectedIndex() == tabRooms
	switch {
	case u.tabs.SelectedIndex() == tabChats && len(u.chats.rows) > 0:
		e := u.chats.rows[0]
		u.conv.open(e.peer, e.room)
	case rooms && (inRooms || !people):
		u.tabs.SelectIndex(tabRooms)
		u.openRoom(u.roomsV.rows[0].ID)
	case people:
		u.tabs.SelectIndex(tabPeople)
		u.openPeer(u.roster.rows[0].ID)
	default:
		return
	}
	// open moves the focus only when the conversation was not open already.
	if u.win != nil && !u.conv.composer.Disabled() {
		u.win.Canvas().Focus(u.conv.composer)
	}
}

// updateHints says why a list is empty: nothing known yet (and what to do about
// it), nothing matching the filter, or matches only in the other tab.
func (u *ui) updateHints() {
	if u.roster == nil || u.roomsV == nil || u.filter == nil {
		return // still being built
	}
	filtering := strings.TrimSpace(u.filter.Text) != ""
	people, rooms := len(u.roster.rows), len(u.roomsV.rows)
	switch {
	case people > 0:
		u.roster.hint.hide()
	case filtering && rooms > 0:
		u.roster.hint.show("No matches in People",
			matchesText(rooms)+" in Rooms (Ctrl+2)", func() { u.selectTab(tabRooms) })
	case filtering:
		u.roster.hint.show("No matches", "", nil)
	case !u.loaded:
		u.roster.hint.hide() // the first roster is still on its way
	default:
		u.roster.hint.show("No one found yet — people on your network appear here by themselves. "+
			"For someone on another network, use Add peer… (Ctrl+N).", "", nil)
	}
	switch {
	case rooms > 0:
		u.roomsV.hint.hide()
	case filtering && people > 0:
		u.roomsV.hint.show("No matches in Rooms",
			matchesText(people)+" in People (Ctrl+1)", func() { u.selectTab(tabPeople) })
	case filtering:
		u.roomsV.hint.show("No matches", "", nil)
	default:
		u.roomsV.hint.show("No rooms yet — type a name below to join a room or start one.", "", nil)
	}
}

func matchesText(n int) string {
	if n == 1 {
		return "1 match"
	}
	return fmt.Sprintf("%d matches", n)
}

// listHint is the text over an empty list, with an optional button that leads
// somewhere more useful.
type listHint struct {
	text *widget.Label
	jump *widget.Button
	box  *fyne.Container
}

func newListHint() *listHint {
	h := &listHint{text: widget.NewLabel(""), jump: widget.NewButton("", nil)}
	h.text.Wrapping = fyne.TextWrapWord
	h.text.Alignment = fyne.TextAlignCenter
	h.jump.Hide()
	// A VBox, not a Center: a wrapping label needs the list's width to wrap in.
	h.box = container.NewVBox(h.text, container.NewCenter(h.jump))
	h.box.Hide()
	return h
}

// over stacks the hint on top of the list it explains.
func (h *listHint) over(list fyne.CanvasObject) fyne.CanvasObject {
	return container.NewStack(list, h.box)
}

func (h *listHint) show(text, jump string, onJump func()) {
	h.text.SetText(text)
	if jump == "" {
		h.jump.Hide()
	} else {
		h.jump.SetText(jump)
		h.jump.OnTapped = onJump
		h.jump.Show()
	}
	h.box.Show()
	h.box.Refresh()
}

func (h *listHint) hide() { h.box.Hide() }
