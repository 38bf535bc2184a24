package app

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// rosterView is the people list: sorted online first, then by presence, then name;
// narrowed by the filter box.
type rosterView struct {
	u    *ui
	list *widget.List
	rows []node.PeerView // what the list shows, in order
	hint *listHint       // why the list is empty, when it is
	// conflicts maps a peer ID to the other peers that use the same display name.
	conflicts map[string][]node.PeerView
}

var presenceRank = map[string]int{node.PresenceAvailable: 0, node.PresenceAway: 1, node.PresenceBusy: 2}

func presenceOrder(p node.PeerView) int {
	if !p.Online {
		return 9
	}
	if r, ok := presenceRank[p.Presence]; ok {
		return r
	}
	return 3
}

// sortPeers orders peers: online first, then by presence, then by name, then ID;
// blocked peers last of all.
func sortPeers(peers []node.PeerView) {
	slices.SortFunc(peers, func(a, b node.PeerView) int {
		if a.Blocked != b.Blocked {
			if b.Blocked {
				return -1
			}
			return 1
		}
		if a.Online != b.Online {
			if a.Online {
				return -1
			}
			return 1
		}
		if d := presenceOrder(a) - presenceOrder(b); d != 0 {
			return d
		}
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// nameConflicts finds display names used by more than one key.
func nameConflicts(peers map[string]node.PeerView) map[string][]node.PeerView {
	byName := map[string][]node.PeerView{}
	for _, p := range peers {
		if n := strings.ToLower(strings.TrimSpace(p.Name)); n != "" {
			byName[n] = append(byName[n], p)
		}
	}
	out := map[string][]node.PeerView{}
	for _, group := range byName {
		if len(group) < 2 {
			continue
		}
		for _, p := range group {
			for _, o := range group {
				if o.ID != p.ID {
					out[p.ID] = append(out[p.ID], o)
				}
			}
		}
	}
	return out
}

func newRosterView(u *ui) *rosterView {
	r := &rosterView{u: u, conflicts: map[string][]node.PeerView{}, hint: newListHint()}
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
			u.openPeer(r.rows[i].ID)
		}
	}
	return r
}

func (r *rosterView) object() fyne.CanvasObject { return r.hint.over(r.list) }

func (r *rosterView) bind(p node.PeerView, row *listRow) {
	name := p.Name
	if name == "" {
		name = shortID(p.ID)
	}
	name = r.tellApart(p, name) // samename.go
	sub := "Offline"
	dot := p.Presence
	switch {
	case p.Blocked:
		sub, dot = "Blocked", node.PresenceOffline
	case p.Online:
		sub = presenceLabel(p.Presence)
		if p.Status != "" {
			sub += " — " + p.Status
		}
	}
	_, conflict := r.conflicts[p.ID]
	if _, changed := r.u.keyChanges[p.ID]; changed && !p.Verified {
		conflict = true
	}
	row.set(dot, name, sub, conflict, r.u.unread[node.ConvOf(p.ID, "")])
	row.setTrust(p.Verified, p.Blocked)
	kind := hostedKind(p)
	row.guest.setKind(kind)
	row.showMark(row.guest, kind != "")
}

// refresh re-sorts, re-filters and redraws the list, keeping the open peer selected.
func (r *rosterView) refresh() {
	r.conflicts = nameConflicts(r.u.peers)
	r.rows = r.rows[:0]
	for _, p := range r.u.peers {
		if r.u.matchesFilter(p.Name, p.Status, p.ID) {
			r.rows = append(r.rows, p)
		}
	}
	sortPeers(r.rows)
	r.list.Refresh()
	r.reselect()
	r.u.updateHints()
}

// reselect marks the open conversation's peer without reopening it.
func (r *rosterView) reselect() {
	open := r.u.conv.peer
	for i, p := range r.rows {
		if p.ID == open && open != "" {
			r.list.Select(i) // openPeer is idempotent
			return
		}
	}
	r.list.UnselectAll()
}

// index is the row of a peer, or -1 (tests and keyboard navigation).
func (r *rosterView) index(id string) int {
	for i, p := range r.rows {
		if p.ID == id {
			return i
		}
	}
	return -1
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
