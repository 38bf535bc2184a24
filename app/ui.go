package app

import (
	"context"
	"image/color"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// Minimum window size (the content's minimum size is the window's).
var minWindow = fyne.NewSize(900, 600)

// ui is the whole window. Its fields are touched only on the UI goroutine.
type ui struct {
	core Core
	opts Options
	win  fyne.Window
	// do runs f on the UI goroutine (fyne.Do; tests substitute a queue they drain).
	do func(f func())
	// notify shows a desktop notification.
	notify func(title, body string)
	// now is the clock the relative day labels ("Today", "Yesterday") are read
	// against; tests move it past midnight instead of sleeping.
	now func() time.Time
	// date is the local date (time.DateOnly) the day labels were last drawn for.
	date string
	// quit ends the app (fyne's Quit; tests record it). Run then returns and
	// main stops the node, which says goodbye to its peers.
	quit func()
	// hidden: the window was closed into the tray; toldHidden: the user was
	// told so once (background.go).
	hidden, toldHidden bool
	// focused: the window has input focus (notifications only when it has not).
	focused bool
	// loaded: the first roster, rooms and unread counts have arrived.
	loaded bool

	self             node.Ready
	presence, status string
	peers            map[string]node.PeerView
	rooms            map[string]node.Room
	unread           map[node.Conv]int // conversation → unread messages
	receipts         map[string]string // message ID → best state learnt from events
	// last is each conversation's newest message known here (the chat list).
	last map[node.Conv]node.Message
	// trustBusy: a SetVerified or Block is in flight for these peers.
	trustBusy map[string]bool
	// keyChanges: peers that turned up under a known name with a new key.
	keyChanges map[string]node.KeyChanged

	profile *profileView
	roster  *rosterView
	roomsV  *roomsView
	chats   *chatsView // the chat list (chatlist.go)
	conv    *convView
	tabs    *container.AppTabs
	filter  *keyEntry
	search  *searchView  // nil when the core cannot search (search.go)
	details *detailsView // the open peer-details dialog, if any
	tray    *trayMenu
	dialogs []dialog.Dialog // open dialogs, newest last (Escape closes it)

	// Calls: nil interfaces when the core has none (the call UI stays hidden).
	calls     callCore
	audio     audioCore
	call      *callSession // the call in progress, if any
	callBar   *callBar
	ring      *ringCard
	tips      *tipLayer
	main      *fyne.Container // the call band above the split panes
	callShown string          // what the call band shows: "", "ring", "live" or "ended"
	ctx       context.Context // ends when the window closes (start)
	stopClock func()          // stops the call clock, nil when it is not running

	// Files: a nil interface when the core has none (no attach button, no strip).
	files     fileCore
	transfers map[string]*transfer // by offer ID (or a provisional "pending-N")
	// xferLog: every transfer with a core ID, dismissed cards too — the
	// timelines' files (filetimeline.go).
	xferLog   map[string]*transfer
	xferSeq   int             // orders the cards, oldest first
	lookups   map[string]bool // transfer IDs being asked of the core
	dismissed map[string]bool // transfers whose cards the user closed
	strip     *transferStrip
	// openURL hands a file:// URL to the desktop (tests record it instead).
	openURL func(*url.URL) error

	// guests: nil when the core hosts no browser guests (guests.go).
	guests *guestDesk
	phones *phonesView // the open Phones (SIP) dialog (sipsettings.go)

	snd soundState // the ring, ringback and chime asked of the core (sounds.go)

	// Urgent items (urgent.go): what the band shows, and the names the core
	// sent for senders not in the roster.
	urg      urgentState
	urgNames map[string]string
	alarms   *alarmBand
}

func newUI(core Core, opts Options, win fyne.Window, do func(func())) *ui {
	u := &ui{core: core, opts: opts, win: win, do: do, focused: true,
		peers: map[string]node.PeerView{}, rooms: map[string]node.Room{},
		unread: map[node.Conv]int{}, receipts: map[string]string{}, last: map[node.Conv]node.Message{},
		presence: "available", status: opts.Status, ctx: context.Background(),
		trustBusy: map[string]bool{}, keyChanges: map[string]node.KeyChanged{},
		transfers: map[string]*transfer{}, xferLog: map[string]*transfer{}, lookups: map[string]bool{}, dismissed: map[string]bool{},
		urg: urgentState{acking: map[string]bool{}}, urgNames: map[string]string{},
		now: time.Now}
	u.date = u.now().Format(time.DateOnly)
	u.calls, _ = core.(callCore)
	u.audio, _ = core.(audioCore)
	u.files, _ = core.(fileCore)
	if gc, ok := core.(guestCore); ok {
		u.guests = newGuestDesk(u, gc)
	}
	u.openURL = func(l *url.URL) error { return fyne.CurrentApp().OpenURL(l) }
	u.quit = func() { fyne.CurrentApp().Quit() }
	if opts.Presence != "" {
		u.presence = opts.Presence
	}
	u.notify = func(title, body string) {
		fyne.CurrentApp().SendNotification(fyne.NewNotification(title, body))
	}
	return u
}

// build makes the window content.
func (u *ui) build() fyne.CanvasObject {
	u.filter = newKeyEntry(u)
	u.filter.SetPlaceHolder("Filter people and rooms (Ctrl+K)")
	u.profile = newProfileView(u)
	u.roster = newRosterView(u)
	u.roomsV = newRoomsView(u)
	u.chats = newChatsView(u)
	u.tips = newTipLayer()
	u.ring = newRingCard(u)
	u.alarms = newAlarmBand(u)
	u.callBar = newCallBar(u)
	u.strip = newTransferStrip(u)
	u.conv = newConvView(u)
	u.filter.OnChanged = func(string) { u.roster.refresh(); u.roomsV.refresh(); u.chats.refresh() }
	u.filter.OnSubmitted = func(string) { u.openFirstMatch() }

	tabs := []*container.TabItem{
		container.NewTabItem("Chats", u.chats.object()),
		container.NewTabItem("People", u.roster.object()),
		container.NewTabItem("Rooms", u.roomsV.object()),
	}
	if sc, ok := u.core.(searchCore); ok {
		u.search = newSearchView(u, sc)
		tabs = append(tabs, container.NewTabItem("Search", u.search.object()))
	}
	u.tabs = container.NewAppTabs(tabs...)
	addPeer := widget.NewButton("Add peer…", u.showAddPeer)
	settings := widget.NewButton("Settings…", u.showSettings)
	var actions fyne.CanvasObject = container.NewGridWithColumns(2, addPeer, settings)
	if alert := u.alertButton(); alert != nil { // alertdialog.go
		actions = container.NewVBox(actions, alert)
	}
	side := border(container.NewVBox(u.profile.object(), widget.NewSeparator(), u.filter),
		u.tabs, u.inviteButtonRow(actions))
	split := container.NewHSplit(side, u.conv.object())
	split.Offset = 0.3
	floor := canvas.NewRectangle(color.Transparent)
	floor.SetMinSize(minWindow)
	u.registerShortcuts()
	if u.win != nil {
		u.win.SetCloseIntercept(u.closeRequested) // background.go
	}
	if u.win != nil && u.files != nil {
		u.win.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) { u.dropped(uris) })
	}
	// The call band sits above both panes, so it stays in view whichever
	// conversation is open.
	calls := container.NewVBox(u.alarms.object(), u.ring.object(), u.callBar.object())
	u.main = container.NewBorder(calls, nil, nil, nil, split)
	return container.NewStack(floor, u.main, u.tips.object())
}

// border lays out top, center and bottom like container.NewBorder, but keeps them
// in that order, which is the keyboard focus (Tab) order.
func border(top, center, bottom fyne.CanvasObject) *fyne.Container {
	return container.New(layout.NewBorderLayout(top, bottom, nil, nil), top, center, bottom)
}

// registerShortcuts adds the window-wide shortcuts; keyEntry forwards them too, as
// a focused entry would otherwise swallow them.
func (u *ui) registerShortcuts() {
	if u.win == nil {
		return
	}
	ctrlShift := fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift
	for _, s := range []*desktop.CustomShortcut{
		{KeyName: fyne.KeyK, Modifier: fyne.KeyModifierShortcutDefault},
		{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault},
		{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault},
		{KeyName: fyne.KeyD, Modifier: fyne.KeyModifierShortcutDefault},
		{KeyName: fyne.Key0, Modifier: fyne.KeyModifierShortcutDefault},
		{KeyName: fyne.Key1, Modifier: fyne.KeyModifierShortcutDefault},
		{KeyName: fyne.Key2, Modifier: fyne.KeyModifierShortcutDefault},
		{KeyName: fyne.KeyC, Modifier: ctrlShift},
		{KeyName: fyne.KeyA, Modifier: ctrlShift},
		{KeyName: fyne.KeyM, Modifier: ctrlShift},
	} {
		u.win.Canvas().AddShortcut(s, func(sc fyne.Shortcut) { u.shortcut(sc) })
	}
	u.win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			u.escape()
		}
	})
}

// showDialog shows d and lets Escape close it.
func (u *ui) showDialog(d dialog.Dialog) {
	u.dialogs = append(u.dialogs, d)
	d.SetOnClosed(func() {
		u.dialogs = slices.DeleteFunc(u.dialogs, func(x dialog.Dialog) bool { return x == d })
	})
	d.Show()
}

// escape closes the newest dialog and reports whether there was one.
func (u *ui) escape() bool {
	n := len(u.dialogs)
	if n == 0 {
		return false
	}
	u.dialogs[n-1].Hide()
	return true
}

// shortcut handles a window-wide shortcut and reports whether it was one. The
// call keys count only when they did something, so outside a call Ctrl+D
// still reaches the focused entry.
//
// Escape does not hang up: it closes dialogs and is pressed by reflex, and one
// press too many must not drop a call.
func (u *ui) shortcut(s fyne.Shortcut) bool {
	cs, ok := s.(*desktop.CustomShortcut)
	if !ok {
		return false
	}
	switch cs.Modifier {
	case fyne.KeyModifierShortcutDefault:
		switch cs.KeyName {
		case fyne.KeyK:
			u.focusFilter()
			return true
		case fyne.KeyN:
			u.showAddPeer()
			return true
		case fyne.KeyF:
			return u.focusSearch()
		case fyne.KeyD: // hang up, or decline a ringing call
			return u.hangup()
		case fyne.Key0:
			u.selectTab(tabChats)
			return true
		case fyne.Key1:
			u.selectTab(tabPeople)
			return true
		case fyne.Key2:
			u.selectTab(tabRooms)
			return true
		}
	case fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift:
		switch cs.KeyName {
		case fyne.KeyC:
			return u.callOpenConversation()
		case fyne.KeyA:
			return u.answer()
		case fyne.KeyM:
			return u.toggleMute()
		}
	}
	return false
}

func (u *ui) focusFilter() {
	if u.win != nil {
		u.win.Canvas().Focus(u.filter)
	}
}

// background runs call off the UI goroutine and hands its result to apply on it.
func background[T any](u *ui, call func() (T, error), apply func(T, error)) {
	go func() {
		v, err := call()
		u.do(func() { apply(v, err) })
	}()
}

// showError reports a failed core call.
func (u *ui) showError(what string, err error) {
	if u.win == nil || err == nil {
		return
	}
	u.showDialog(dialog.NewError(errorf(what, err), u.win))
}

type wrapped struct {
	what string
	err  error
}

func (w wrapped) Error() string { return w.what + ": " + w.err.Error() }
func (w wrapped) Unwrap() error { return w.err }

func errorf(what string, err error) error { return wrapped{what, err} }

// peerName is a peer's display name, or a short ID when it has none.
func (u *ui) peerName(id string) string {
	if id == u.self.ID {
		return u.self.Name + " (you)"
	}
	if p, ok := u.peers[id]; ok && p.Name != "" {
		return p.Name
	}
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// totalUnread sums the unread counts.
func (u *ui) totalUnread() int {
	n := 0
	for _, c := range u.unread {
		n += c
	}
	return n
}

// matchesFilter reports whether any of the texts contains the filter (case-insensitive).
func (u *ui) matchesFilter(texts ...string) bool {
	f := strings.ToLower(strings.TrimSpace(u.filter.Text))
	if f == "" {
		return true
	}
	for _, t := range texts {
		if strings.Contains(strings.ToLower(t), f) {
			return true
		}
	}
	return false
}

// unreadChanged refreshes everything that shows unread counts.
func (u *ui) unreadChanged() {
	u.roster.refresh()
	u.roomsV.refresh()
	u.chats.refresh()
	u.tray.update()
	if u.win != nil {
		title := "Parley"
		if n := u.totalUnread(); n > 0 {
			title = "(" + strconv.Itoa(n) + ") Parley"
		}
		u.win.SetTitle(title)
	}
}
