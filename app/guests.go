package app

import (
	"log/slog"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// The node's guest API (node/guests.go) under the names this package uses.
type (
	guestView    = node.GuestView
	guestRequest = node.GuestRequest
	guestChanged = node.GuestChanged
)

// Guest states (node.GuestView.State).
const (
	guestPending  = node.GuestPending
	guestAdmitted = node.GuestAdmitted
)

// guestCore is optional: a core that hosts browser guests (node/guests.go).
// Without it there is no "Invite a guest" and no admission prompt.
type guestCore interface {
	// Guests lists the pending and admitted guests.
	Guests() []guestView
	// AdmitGuest answers a guest's request (on: admit, off: refuse).
	AdmitGuest(id string, on bool) error
	// RemoveGuest stops an admitted guest now and forgets its admission.
	RemoveGuest(id string) error
}

// webURLsCore is optional: a core that knows the addresses of its guest web
// server (node/weburls.go); empty when the server is off.
type webURLsCore interface {
	WebURLs() []string
}

// guestDesk is the desktop side of guest hosting: the admission prompts and
// the invite dialog. A nil *guestDesk (a core without guests) does nothing.
type guestDesk struct {
	u    *ui
	core guestCore
	// prompts are the waiting guests shown in the admission dialog, by ID;
	// ask is that dialog, nil when closed (guestprompt.go).
	prompts map[string]*admissionPrompt
	ask     *admissionDialog
	// busy: an AdmitGuest or RemoveGuest is in flight for these guests.
	busy   map[string]bool
	invite *inviteView // the open invite dialog, nil when closed
}

func newGuestDesk(u *ui, core guestCore) *guestDesk {
	return &guestDesk{u: u, core: core, prompts: map[string]*admissionPrompt{}, busy: map[string]bool{}}
}

// answer admits or refuses a waiting guest.
func (g *guestDesk) answer(id string, on bool) {
	if g.busy[id] {
		return
	}
	g.closePrompt(id)
	g.run(id, "Answering the guest", func() error { return g.core.AdmitGuest(id, on) })
}

// remove stops an admitted guest.
func (g *guestDesk) remove(id string) {
	if g.busy[id] {
		return
	}
	g.run(id, "Removing the guest", func() error { return g.core.RemoveGuest(id) })
}

// run calls the core off the UI goroutine, then re-reads the guests.
func (g *guestDesk) run(id, what string, call func() error) {
	g.busy[id] = true
	g.refreshInvite()
	background(g.u, func() (struct{}, error) { return struct{}{}, call() }, func(_ struct{}, err error) {
		delete(g.busy, id)
		if err != nil {
			// Most often the guest went away or was answered elsewhere
			// (headless, a timeout) meanwhile: the list shows how it is now.
			slog.Info("guest command", "what", what, "guest", id, "err", err)
		}
		g.reload()
	})
}

// onChanged: a guest was admitted, left or was removed.
func (g *guestDesk) onChanged(e guestChanged) {
	if g == nil {
		return
	}
	if e.Guest.State != guestPending {
		g.closePrompt(e.Guest.ID)
	}
	g.reload()
	g.u.refreshRoster()
}

// reload re-reads the guests; prompts of guests no longer waiting go away
// (answered from headless, refused by timeout, or the browser left).
func (g *guestDesk) reload() {
	background(g.u, func() ([]guestView, error) { return g.core.Guests(), nil }, func(list []guestView, _ error) {
		waiting := map[string]bool{}
		for _, v := range list {
			if v.State == guestPending {
				waiting[v.ID] = true
			}
		}
		for id := range g.prompts {
			if !waiting[id] {
				g.closePrompt(id)
			}
		}
		if g.invite != nil {
			g.invite.setGuests(list)
		}
	})
}

func (g *guestDesk) refreshInvite() {
	if g.invite != nil {
		g.invite.redraw()
	}
}

// guestName is a guest's display name, or a short ID.
func guestName(name, id string) string {
	if name == "" {
		return shortID(id)
	}
	return name
}

func fromText(from string) string {
	if from == "" {
		return ""
	}
	return " from " + from
}

// inviteButtonRow is the side panel's bottom row with "Invite a guest…" above
// the other buttons when the core hosts guests.
func (u *ui) inviteButtonRow(rest fyne.CanvasObject) fyne.CanvasObject {
	if u.guests == nil {
		return rest
	}
	invite := widget.NewButton("Invite a guest…", u.guests.showInvite)
	return container.New(layout.NewVBoxLayout(), invite, rest)
}
