package app

import (
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// walk visits the visible objects under o, widgets through their renderers.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	fn(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, fn)
		}
	}
}

// everything walks the window content and its overlays (dialogs).
func (h *harness) everything(fn func(fyne.CanvasObject)) {
	walk(h.win.Content(), fn)
	for _, o := range h.win.Canvas().Overlays().List() {
		walk(o, fn)
	}
}

// rosterRow finds the shown roster row titled name.
func (h *harness) rosterRow(name string) *listRow {
	h.showTab(tabPeople)
	var found *listRow
	walk(h.u.roster.list, func(o fyne.CanvasObject) {
		if r, ok := o.(*listRow); ok && r.title.Text == name {
			found = r
		}
	})
	return found
}

// rosterNames are the roster rows' titles in order.
func (h *harness) rosterNames() []string {
	var out []string
	for _, p := range h.u.roster.rows {
		out = append(out, p.Name)
	}
	return out
}

// convRows are the shown conversation rows, top to bottom.
func (h *harness) convRows() []*convRow {
	var out []*convRow
	walk(h.u.conv.list, func(o fyne.CanvasObject) {
		if r, ok := o.(*convRow); ok {
			out = append(out, r)
		}
	})
	return out
}

// bubbleFor finds the shown bubble of a message text.
func (h *harness) bubbleFor(text string) *convRow {
	for _, r := range h.convRows() {
		if r.kind == kindMsg && r.b.text == text {
			return r
		}
	}
	return nil
}

// labelsContaining lists the visible labels whose text contains s.
func (h *harness) labelsContaining(s string) []*widget.Label {
	var out []*widget.Label
	h.everything(func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && contains(l.Text, s) {
			out = append(out, l)
		}
	})
	return out
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// openPeer opens a conversation and waits for its first page.
func (h *harness) openPeer(id string) {
	h.t.Helper()
	h.u.roster.list.Select(h.u.roster.index(id))
	h.waitFor("the first page", func() bool { return h.u.conv.peer == id && !h.u.conv.loading })
}

// msgs makes n messages between peer and self, one every hour from start.
func msgs(peer string, start time.Time, n int, prefix string) []node.Message {
	var out []node.Message
	for i := 0; i < n; i++ {
		from, to, state := peer, selfID, node.StateRead
		if i%3 == 0 {
			from, to, state = selfID, peer, node.StateRead
		}
		out = append(out, node.Message{ID: prefix + "-" + itoa3(i), Conv: node.DirectConv(peer), From: from, To: to,
			Text: prefix + " message " + itoa3(i), Time: start.Add(time.Duration(i) * time.Hour), State: state})
	}
	return out
}

func itoa3(i int) string {
	return string([]byte{byte('0' + i/100%10), byte('0' + i/10%10), byte('0' + i%10)})
}

func ctrl(key string) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: fyne.KeyName(key), Modifier: fyne.KeyModifierShortcutDefault}
}

func enter() *fyne.KeyEvent { return &fyne.KeyEvent{Name: fyne.KeyReturn} }

// rosterRowByID finds the shown roster row of a peer.
func (h *harness) rosterRowByID(id string) *listRow {
	h.showTab(tabPeople)
	i := h.u.roster.index(id)
	var rows []*listRow
	walk(h.u.roster.list, func(o fyne.CanvasObject) {
		if r, ok := o.(*listRow); ok {
			rows = append(rows, r)
		}
	})
	// Rows are laid out top to bottom in list order.
	slices.SortFunc(rows, func(a, b *listRow) int { return int(a.Position().Y - b.Position().Y) })
	if i < 0 || i >= len(rows) {
		return nil
	}
	return rows[i]
}

// showTab shows a side tab, as a user clicks it before looking at its rows (the
// window opens on the chat list; hidden tabs draw nothing).
func (h *harness) showTab(i int) {
	if h.u.tabs.SelectedIndex() != i {
		h.u.tabs.SelectIndex(i)
	}
}
