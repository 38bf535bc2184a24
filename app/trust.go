package app

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// Trust: the user's verdicts on peers (verified, blocked) and the warning when
// a known name turns up with a new key. The node keeps the verdicts; this file
// asks for them and words the warnings.

// setVerified records, or withdraws, that the user compared safety numbers.
func (u *ui) setVerified(id string, on bool) {
	u.trustBusy[id] = true
	u.peersChanged()
	background(u, func() (node.PeerView, error) { return u.core.SetVerified(id, on) },
		func(p node.PeerView, err error) {
			delete(u.trustBusy, id)
			if err != nil {
				u.showError("Marking "+u.peerName(id)+" as verified", err)
				u.peersChanged() // the toggle goes back to what the core has
				return
			}
			u.upsertPeer(p)
		})
}

// confirmBlock explains what blocking (or unblocking) does before doing it: a
// block cuts someone off entirely, so it must never be one stray click.
func (u *ui) confirmBlock(id string) {
	if u.win == nil {
		return
	}
	name := u.peerName(id)
	on := !u.peers[id].Blocked
	title, text, action := "Block "+name+"?", blockText(name), "Block"
	if !on {
		title, text, action = "Unblock "+name+"?", unblockText(name), "Unblock"
	}
	msg := widget.NewLabel(text)
	msg.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm(title, action, "Cancel", msg, func(ok bool) {
		if ok {
			u.setBlocked(id, on)
		}
	}, u.win)
	if on {
		d.SetConfirmImportance(widget.DangerImportance)
	}
	d.Resize(fyne.NewSize(480, 260))
	u.showDialog(d)
}

func blockText(name string) string {
	return "Your device will refuse every link with " + name + "'s device and ignore their messages, " +
		"calls, files and presence; nothing is relayed for them through you. They are not told.\n\n" +
		"The block is kept after a restart. You can unblock them in their details at any time."
}

func unblockText(name string) string {
	return "Parley will link with " + name + "'s device again and show their messages, calls and files " +
		"from now on. Messages they sent while blocked were dropped and will not come back."
}

// setBlocked asks the core to block or unblock a peer.
func (u *ui) setBlocked(id string, on bool) {
	u.trustBusy[id] = true
	u.peersChanged()
	background(u, func() (node.PeerView, error) { return u.core.Block(id, on) },
		func(p node.PeerView, err error) {
			delete(u.trustBusy, id)
			if err != nil {
				what := "Blocking "
				if !on {
					what = "Unblocking "
				}
				u.showError(what+u.peerName(id), err)
				u.peersChanged()
				return
			}
			u.upsertPeer(p)
		})
}

// onKeyChanged remembers that a known name turned up with a new key and says
// so at once, whether or not the window has focus: it may be an impostor.
func (u *ui) onKeyChanged(e node.KeyChanged) {
	if e.Peer == "" || e.Peer == u.self.ID {
		return
	}
	u.keyChanges[e.Peer] = e
	if _, ok := u.peers[e.Peer]; !ok {
		// Usually its peer_up follows; until then the roster must show it.
		u.peers[e.Peer] = node.PeerView{ID: e.Peer, Name: e.Name, Fingerprint: e.Fingerprint, Presence: "offline"}
	}
	u.notify("New key for "+e.Name, keyChangedText(e))
	u.peersChanged()
}

// keyChangedText is the warning about a newcomer; stronger when the user had
// verified the earlier peer of that name, since then a mistake is unlikely.
func keyChangedText(e node.KeyChanged) string {
	if e.PreviousVerified {
		return "⛔ " + e.Name + " appeared with a new key, but the " + e.Name + " you verified had another one — " +
			"this is a different device or an impostor. Do not trust it until you have compared safety numbers " +
			"in person or by phone."
	}
	return "⚠ " + e.Name + " appeared with a new key — this is a different device or an impostor; " +
		"compare safety numbers."
}

// trustWarning is what the header and the details say about a peer's key:
// the key-change warning (until the user verifies this peer) and the
// same-name warning for any other peer with its name that the first does not
// already name. danger: the strong form, shown in the error colour.
func (u *ui) trustWarning(id string) (text string, danger bool) {
	var parts []string
	var covered []string
	if e, ok := u.keyChanges[id]; ok && !u.peers[id].Verified {
		parts = append(parts, keyChangedText(e))
		covered, danger = e.Previous, e.PreviousVerified
	}
	var others []node.PeerView
	for _, o := range nameConflicts(u.peers)[id] {
		if !slices.Contains(covered, o.ID) {
			others = append(others, o)
		}
	}
	if len(others) > 0 {
		parts = append(parts, conflictWarning(others))
	}
	return strings.Join(parts, "\n"), danger
}

// showTrustWarning puts a peer's key warning on a label, or hides it.
func (u *ui) showTrustWarning(l *widget.Label, id string) {
	text, danger := u.trustWarning(id)
	if text == "" {
		l.Hide()
		return
	}
	l.Importance = widget.WarningImportance
	if danger {
		l.Importance = widget.DangerImportance
	}
	l.SetText(text)
	l.Show()
}

// networkText says whether this node is on an open network or in a team.
func networkText(team string) string {
	if team == "" {
		return "Open — anyone running Parley on this network can find you"
	}
	return "Closed team (" + team + ") — only members holding its invitation see you"
}

// teamHint says how to join (or leave) a team: the passphrase is a start-up
// setting so that it never sits in the window's memory longer than needed.
const teamHint = "To join a team, start Parley with --team-file FILE (the invitation a member made with " +
	"parley --new-team FILE) or with $PARLEY_TEAM set to it; without either the network is open."
