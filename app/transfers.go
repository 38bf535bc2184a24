package app

import (
	"image"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"parley/node"
)

// What the window knows of file transfers, from the core's events and its
// Transfers list. The cards (transfercard.go) only draw this.

// Transfer states: the core's (node.Transfer*) and one of the window's own.
const (
	xferPreparing = "preparing" // SendFile is still hashing; the core has no ID yet
	xferOffered   = node.TransferOffered
	xferActive    = node.TransferActive
	xferDone      = node.TransferDone
	xferDeclined  = node.TransferDeclined
	xferCancelled = node.TransferCancelled
	xferFailed    = node.TransferFailed
)

// transfer is one file on its way in or out.
type transfer struct {
	id     string
	out    bool
	name   string
	mime   string
	size   uint64
	peer   string // the sender of an incoming file; the recipient of a 1:1 outgoing one
	room   string
	conv   node.Conv // the conversation it is shown in
	state  string
	bytes  uint64
	rate   float64 // bytes per second, as the core measured it
	path   string  // where the file is (done), or our source (outgoing)
	reason string  // why it ended, in the user's words
	busy   bool    // a command about it is in flight
	thumb  image.Image
	seq    int       // cards show oldest first
	at     time.Time // when it was offered: its place in the timeline
}

// final: nothing more will happen to it (the card can be dismissed).
func (t *transfer) final() bool {
	switch t.state {
	case xferDone, xferDeclined, xferCancelled, xferFailed:
		return true
	}
	return false
}

// add keeps a transfer and shows it if its conversation is open.
func (u *ui) addTransfer(t *transfer) {
	u.xferSeq++
	t.seq = u.xferSeq
	if t.conv == "" {
		t.conv = node.ConvOf(t.peer, t.room)
	}
	u.transfers[t.id] = t
	u.strip.refresh()
	u.logTransfer(t) // filetimeline.go
}

// fromInfo makes a transfer from the core's list entry.
func fromInfo(in node.Transfer) *transfer {
	t := &transfer{id: in.ID, out: in.Out, name: in.Name, mime: in.MediaType, size: in.Size, peer: in.Peer,
		room: in.Room, state: in.State, bytes: in.Bytes, path: in.Path, at: in.Time}
	if in.Reason != "" {
		t.reason = failureText(t, in.Reason, "")
	}
	return t
}

// adoptTransfers shows what the core had going when the window opened: open
// offers and transfers under way get cards. Finished ones are history, not
// news: they go only into the timelines.
func (u *ui) adoptTransfers(list []node.Transfer) {
	slices.SortFunc(list, func(a, b node.Transfer) int { return strings.Compare(a.ID, b.ID) })
	for _, in := range list {
		if _, ok := u.transfers[in.ID]; ok {
			continue
		}
		if in.State != xferOffered && in.State != xferActive {
			if _, ok := u.xferLog[in.ID]; !ok {
				u.logTransfer(fromInfo(in))
			}
			continue
		}
		u.addTransfer(fromInfo(in))
	}
}

// onFileOffer shows an incoming offer, with a notification unless the user is
// looking at its conversation.
func (u *ui) onFileOffer(e node.FileOffer) {
	if _, ok := u.transfers[e.ID]; ok || e.ID == "" {
		return
	}
	t := &transfer{id: e.ID, name: e.Name, mime: e.Type, size: e.Size, peer: e.From, room: e.Room, state: xferOffered}
	if e.Auto {
		t.state = xferActive // accepted by the core: a verified sender, auto-accept on
	}
	if e.Room != "" {
		t.conv = node.RoomConv(e.Room)
	} else {
		t.conv = node.DirectConv(e.From)
	}
	u.addTransfer(t)
	// Unlike a message, an offer leaves no unread badge, so one in a
	// conversation that is not open is announced even in the foreground.
	if !u.focused || t.conv != u.conv.key {
		title := u.peerName(e.From) + " offers a file"
		if e.Room != "" {
			title += " in #" + u.roomName(e.Room)
		}
		body := e.Name + " (" + humanSize(e.Size) + ") — open Parley to accept or decline."
		if e.Auto {
			body = e.Name + " (" + humanSize(e.Size) + ") — receiving: you accept files from verified peers."
		}
		u.notify(title, body)
	}
}

// known finds a transfer an event is about; one the window has never heard
// of (sent by a script through --control, say) is asked of the core.
func (u *ui) known(id string) *transfer {
	if t, ok := u.transfers[id]; ok {
		return t
	}
	if !u.dismissed[id] {
		u.lookUp(id)
	}
	return nil
}

func (u *ui) onFileProgress(e node.FileProgress) {
	t := u.known(e.ID)
	if t == nil || t.final() {
		return
	}
	t.state, t.bytes, t.rate = xferActive, e.Bytes, e.Rate
	if e.Total > 0 {
		t.size = e.Total
	}
	u.strip.update(t)
	u.fileChanged(t)
}

func (u *ui) onFileDone(e node.FileDone) {
	t := u.known(e.ID)
	if t == nil {
		return
	}
	t.state, t.bytes, t.rate, t.reason = xferDone, t.size, 0, ""
	if e.Path != "" {
		t.path = e.Path
	}
	u.strip.update(t)
	u.fileChanged(t)
	if isImage(t) && !t.out {
		u.loadThumb(t)
	}
	if !t.out && !u.focused {
		u.notify("Received "+t.name, "From "+u.peerName(t.peer)+" — saved in your downloads folder.")
	}
}

func (u *ui) onFileFailed(e node.FileFailed) {
	t := u.known(e.ID)
	if t == nil || t.state == xferDone {
		return
	}
	t.state, t.rate = xferFailed, 0
	switch e.Reason {
	case "declined":
		t.state = xferDeclined
	case "cancelled", "cancelled by the recipient", "cancelled by the sender":
		t.state = xferCancelled
	}
	t.reason = failureText(t, e.Reason, u.peerName(t.peer))
	u.strip.update(t)
	u.fileChanged(t)
}

// lookUp asks the core about a transfer it reported but the window never saw
// offered; the next event about it then finds it.
func (u *ui) lookUp(id string) {
	if u.files == nil || u.lookups[id] || id == "" {
		return
	}
	u.lookups[id] = true
	background(u, func() ([]node.Transfer, error) { return u.files.Transfers(), nil },
		func(list []node.Transfer, _ error) {
			delete(u.lookups, id)
			for _, in := range list {
				if _, ok := u.transfers[in.ID]; in.ID == id && !ok && !u.dismissed[id] {
					u.addTransfer(fromInfo(in))
				}
			}
		})
}

// dismiss takes a finished card away (the file stays where it is).
func (u *ui) dismiss(t *transfer) {
	if !t.final() {
		return
	}
	delete(u.transfers, t.id)
	u.dismissed[t.id] = true // later events about it (other room members) stay quiet
	u.strip.refresh()
}

// baseName is what a card calls a file being prepared: its path's last part.
func baseName(path string) string { return filepath.Base(path) }
