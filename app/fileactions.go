package app

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"parley/node"
)

// What the user does with files. As with calls, every core command runs in
// the background: SendFile hashes the whole file first, which for a large one
// takes seconds, and the window must not wait for it.

// canSendFiles says whether the open conversation takes files, and why not.
func (u *ui) canSendFiles() (bool, string) {
	c := u.conv
	switch {
	case u.files == nil:
		return false, "This version of Parley cannot send files"
	case c.peer != "" && u.peers[c.peer].Blocked:
		return false, "You blocked " + u.peerName(c.peer) + " — unblock them to send files"
	case c.peer != "":
		return true, "Send files to " + u.peerName(c.peer) + " (or drop them onto the window)"
	case c.room != "" && !u.rooms[c.room].Joined:
		return false, "Join #" + u.roomName(c.room) + " to send files there"
	case c.room != "":
		return true, "Offer files to #" + u.roomName(c.room) + " (or drop them onto the window)"
	}
	return false, "Open a conversation first, then drop files onto it"
}

// sendFiles offers local files to the open conversation. Each shows at once
// as "preparing"; the core's offer IDs replace them when SendFile returns.
func (u *ui) sendFiles(paths []string) {
	if len(paths) == 0 {
		return
	}
	if ok, why := u.canSendFiles(); !ok {
		u.showError("Sending files", errors.New(why))
		return
	}
	peer, room := u.conv.peer, u.conv.room
	var pending []*transfer
	for _, p := range paths {
		u.xferSeq++ // the provisional ID only needs to be unique
		t := &transfer{id: fmt.Sprintf("pending-%d", u.xferSeq), out: true, name: baseName(p), peer: peer,
			room: room, state: xferPreparing, path: p}
		pending = append(pending, t)
		u.addTransfer(t)
	}
	type result struct {
		ids  []string
		list []node.Transfer
	}
	background(u, func() (result, error) {
		ids, err := u.files.SendFile(peer, room, paths...)
		if err != nil {
			return result{}, err
		}
		return result{ids, u.files.Transfers()}, nil
	}, func(r result, err error) {
		for _, t := range pending {
			delete(u.transfers, t.id)
		}
		if err != nil {
			for _, t := range pending {
				t.state, t.reason = xferFailed, "Could not offer it: "+plainError(err)
				u.transfers[t.id] = t
			}
			u.strip.refresh()
			return
		}
		for _, in := range r.list {
			if slices.Contains(r.ids, in.ID) && u.transfers[in.ID] == nil {
				u.addTransfer(fromInfo(in))
			}
		}
		for _, id := range r.ids {
			if u.transfers[id] == nil { // not listed (yet): show what we know
				u.addTransfer(&transfer{id: id, out: true, name: "a file", peer: peer, room: room, state: xferOffered})
			}
		}
		u.strip.refresh()
	})
}

// plainError drops the command prefix the core puts on its errors.
func plainError(err error) string {
	s := err.Error()
	for _, p := range []string{"send file: ", "accept: ", "decline: ", "cancel: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// dropped takes files dropped onto the window (folders send every file in them).
func (u *ui) dropped(uris []fyne.URI) {
	var paths []string
	for _, uri := range uris {
		if uri != nil && uri.Scheme() == "file" {
			paths = append(paths, uri.Path())
		}
	}
	if len(paths) == 0 {
		return
	}
	u.sendFiles(paths)
}

// pickFiles opens the file chooser (one file per pick: Fyne 2.7's chooser
// selects one; dropping takes several at once).
func (u *ui) pickFiles() {
	if u.win == nil {
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			u.showError("Choosing a file", err)
			return
		}
		if r == nil {
			return // cancelled
		}
		uri := r.URI()
		r.Close()
		u.dropped([]fyne.URI{uri})
	}, u.win)
	d.Resize(fyne.NewSize(760, 520))
	u.showDialog(d)
}

// fileCommand runs accept, decline or cancel in the background; on success
// then updates the card, on failure the user reads why.
func (u *ui) fileCommand(t *transfer, what string, cmd func(string) error, then func()) {
	if t.busy || u.files == nil {
		return
	}
	t.busy = true
	u.strip.update(t)
	background(u, func() (struct{}, error) { return struct{}{}, cmd(t.id) },
		func(_ struct{}, err error) {
			t.busy = false
			if err != nil {
				u.showError(what+" "+t.name, errors.New(plainError(err)))
			} else {
				then()
			}
			u.strip.update(t)
		})
}

func (u *ui) acceptFile(t *transfer) {
	u.fileCommand(t, "Accepting", u.files.AcceptFile, func() {
		if t.state == xferOffered {
			t.state = xferActive
		}
	})
}

func (u *ui) declineFile(t *transfer) {
	u.fileCommand(t, "Declining", u.files.DeclineFile, func() {
		if t.state == xferOffered {
			t.state, t.reason = xferDeclined, failureText(t, "declined", "")
		}
	})
}

func (u *ui) cancelFile(t *transfer) {
	u.fileCommand(t, "Cancelling", u.files.CancelFile, func() {
		if !t.final() {
			t.state, t.rate, t.reason = xferCancelled, 0, failureText(t, "cancelled", "")
		}
	})
}

// openFile hands a finished file to the desktop's default application.
func (u *ui) openFile(t *transfer) { u.openPath(t.path, "Opening "+t.name) }

// showInFolder opens the folder the file is in.
func (u *ui) showInFolder(t *transfer) { u.openPath(filepath.Dir(t.path), "Opening the folder") }

func (u *ui) openPath(path, what string) {
	if path == "" {
		return
	}
	if err := u.openURL(fileURL(path)); err != nil {
		u.showError(what, err)
	}
}

// fileURL is a file:// URL for a local path (on Windows, "C:\x" becomes
// file:///C:/x).
func fileURL(path string) *url.URL {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return &url.URL{Scheme: "file", Path: p}
}
