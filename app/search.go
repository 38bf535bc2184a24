package app

import (
	"image/color"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// searchCore is optional: a core that searches every conversation's history.
// Without it the Search tab is not there.
type searchCore interface {
	// Search finds messages whose text has every word of query, ignoring case
	// and accents, newest first.
	Search(query string, limit int) ([]node.Message, error)
}

var _ searchCore = (*node.Node)(nil)

const (
	tabSearch = 3 // after Chats, People and Rooms (filter.go)
	// searchLimit is how many results the list shows: a person reads the
	// first screenful and narrows the words, so more would only cost time.
	searchLimit = 100
	// revealPage and revealMax bound the history read to bring a found
	// message into its conversation's view (the view holds every message from
	// the newest down): 20 reads of 500 at most, ≈ 10,000 messages.
	revealPage = 500
	revealMax  = 10_000
	// snippetLead is how much of the text before the match a result shows;
	// a text of snippetShort runes or fewer is shown whole (about what fits
	// on a result's line).
	snippetLead  = 24
	snippetShort = 40
)

// searchView is the Search tab: a query box and the messages found in every
// conversation, newest first; choosing one opens its conversation at it.
type searchView struct {
	u       *ui
	core    searchCore
	entry   *keyEntry
	list    *widget.List
	status  *widget.Label
	results []node.Message
	query   string // the query the results are for
	gen     int    // bumps on every query, so a slow answer to an old one is dropped
	root    fyne.CanvasObject
}

func newSearchView(u *ui, core searchCore) *searchView {
	s := &searchView{u: u, core: core, entry: newKeyEntry(u), status: widget.NewLabel("")}
	s.entry.SetPlaceHolder("Search messages (Ctrl+F)")
	s.entry.OnChanged = func(string) { s.run() }
	s.entry.OnSubmitted = func(string) { s.openResult(0) }
	s.status.Wrapping = fyne.TextWrapWord
	s.status.Importance = widget.LowImportance
	s.list = widget.NewList(func() int { return len(s.results) }, newResultRow,
		func(i widget.ListItemID, o fyne.CanvasObject) { s.bind(i, o.(*resultRow)) })
	s.list.OnSelected = func(i widget.ListItemID) {
		s.list.Unselect(i)
		s.openResult(i)
	}
	s.root = container.NewBorder(container.NewVBox(s.entry, s.status), nil, nil, nil, s.list)
	return s
}

func (s *searchView) object() fyne.CanvasObject { return s.root }

// run searches for what the box holds, in the background.
func (s *searchView) run() {
	q := strings.TrimSpace(s.entry.Text)
	s.gen++
	gen := s.gen
	if q == "" {
		s.results, s.query = nil, ""
		s.status.SetText("")
		s.list.Refresh()
		return
	}
	background(s.u, func() ([]node.Message, error) { return s.core.Search(q, searchLimit) },
		func(ms []node.Message, err error) {
			if gen != s.gen {
				return
			}
			s.query = q
			s.results = nil
			if err != nil {
				s.status.SetText("Search failed: " + err.Error())
			} else {
				s.results = ms
				s.status.SetText(resultsText(len(ms)))
			}
			s.list.ScrollToTop()
			s.list.Refresh()
		})
}

func resultsText(n int) string {
	switch {
	case n == 0:
		return "No messages found"
	case n == 1:
		return "1 message"
	case n >= searchLimit:
		return "The newest " + itoa(searchLimit) + " messages — add a word to narrow"
	}
	return itoa(n) + " messages"
}

func itoa(n int) string { return strconv.Itoa(n) }

// resultRow is a result: where (person or room) and when, over the text.
type resultRow struct {
	widget.BaseWidget
	where, when, text *widget.Label
	box               *fyne.Container
}

func newResultRow() fyne.CanvasObject {
	r := &resultRow{where: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		when: widget.NewLabel(""), text: widget.NewLabel("")}
	r.where.Truncation = fyne.TextTruncateEllipsis
	r.when.Importance = widget.LowImportance
	r.text.Truncation = fyne.TextTruncateEllipsis
	// The gap keeps the time clear of the list's scroll bar, which is drawn
	// over the rows' right edge.
	gap := canvas.NewRectangle(color.Transparent)
	gap.SetMinSize(fyne.NewSize(theme.ScrollBarSize(), 0))
	r.box = container.NewVBox(container.NewBorder(nil, nil, nil, container.NewHBox(r.when, gap), r.where), r.text)
	r.ExtendBaseWidget(r)
	return r
}

func (r *resultRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.box) }

func (s *searchView) bind(i int, r *resultRow) {
	if i >= len(s.results) {
		return
	}
	m := s.results[i]
	r.where.SetText(s.u.resultPlace(m))
	r.when.SetText(resultTime(m.Time, s.u.now()))
	r.text.SetText(snippet(m.Text, s.query))
	r.box.Refresh() // lays the row out again: the time's width changed
}

// resultPlace names where a message was said: the room, or the other person
// of a 1:1 chat (with who wrote it, when that was the user).
func (u *ui) resultPlace(m node.Message) string {
	peer, room := u.convOf(m)
	if room != "" {
		name := room
		if r, ok := u.rooms[room]; ok && r.Name != "" {
			name = r.Name
		}
		return "# " + name + " — " + u.peerName(m.From)
	}
	if m.From == u.self.ID {
		return "You → " + u.peerName(peer)
	}
	return u.peerName(peer)
}

// convOf is the peer or room of a message's conversation, from its fields
// (a skin never takes node.Conv apart).
func (u *ui) convOf(m node.Message) (peer, room string) {
	if m.Room != "" {
		return "", m.Room
	}
	if m.From == u.self.ID {
		return m.To, ""
	}
	return m.From, ""
}

// resultTime is a result's time: the hour today, the date before.
func resultTime(t, now time.Time) string {
	t = t.Local()
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	if t.Year() == now.Year() {
		return t.Format("2 Jan")
	}
	return t.Format("2 Jan 2006")
}

// snippet is the message on one line, starting a little before the first
// word of the query, found the way the core finds it (node.FoldText).
func snippet(text, query string) string {
	flat := strings.Join(strings.Fields(text), " ")
	words := strings.Fields(node.FoldText(query))
	if len(words) == 0 {
		return flat
	}
	runes := []rune(flat)
	if len(runes) <= snippetShort {
		return flat
	}
	at := matchRune(runes, words[0])
	if at <= snippetLead {
		return flat
	}
	start := at - snippetLead
	// Start at a word where there is one near.
	for i := start; i < at && i < start+12; i++ {
		if runes[i] == ' ' {
			start = i + 1
			break
		}
	}
	return "…" + string(runes[start:])
}

// matchRune is the index of the rune where word (folded) starts in runes, or 0.
// Folding changes lengths ("ß" → "ss"), so the folded text is built rune by
// rune with each rune's place remembered.
func matchRune(runes []rune, word string) int {
	var folded strings.Builder
	var at []int // byte offset in folded → rune index in runes
	for i, r := range runes {
		f := node.FoldText(string(r))
		for range len(f) {
			at = append(at, i)
		}
		folded.WriteString(f)
	}
	if b := strings.Index(folded.String(), word); b >= 0 && b < len(at) {
		return at[b]
	}
	return 0
}

// openResult opens result i's conversation at the message.
func (s *searchView) openResult(i int) {
	if i < 0 || i >= len(s.results) {
		return
	}
	m := s.results[i]
	peer, room := s.u.convOf(m)
	if peer == "" && room == "" {
		return
	}
	s.u.conv.open(peer, room)
	s.u.conv.reveal(m.ID)
}

// focusSearch shows the Search tab with the keyboard in its box (Ctrl+F).
func (u *ui) focusSearch() bool {
	if u.search == nil {
		return false
	}
	u.tabs.SelectIndex(tabSearch)
	if u.win != nil {
		u.win.Canvas().Focus(u.search.entry)
	}
	return true
}

// reveal brings message id of the open conversation into view and marks it.
// The view holds the history from the newest message down, so an older
// message needs the pages between: they are read in the background, up to
// revealMax messages.
func (c *convView) reveal(id string) {
	if i, ok := c.index[c.found]; ok && c.found != id {
		defer c.refreshItem(c.msgItem[i]) // unmark the one found before
	}
	c.found, c.target = id, id
	if !c.loading {
		c.revealTarget()
	}
	// else the first page is on its way; open's callback calls revealTarget.
}

// revealTarget scrolls to c.target when it is shown, or reads older pages
// until it is.
func (c *convView) revealTarget() {
	id := c.target
	if id == "" {
		return
	}
	if i, ok := c.index[id]; ok {
		c.target = ""
		c.refreshItem(c.msgItem[i])
		c.list.ScrollTo(c.msgItem[i])
		return
	}
	if c.next == "" {
		c.target = "" // no longer in the history
		return
	}
	c.loading = true
	gen, peer, room, cursor := c.gen, c.peer, c.room, c.next
	type found struct {
		ms   []node.Message
		next string
	}
	background(c.u, func() (found, error) {
		var f found
		f.next = cursor
		for f.next != "" && len(f.ms) < revealMax {
			p, err := c.u.core.History(peer, room, f.next, revealPage)
			if err != nil {
				return f, err
			}
			f.ms, f.next = append(p.Messages, f.ms...), p.Next
			for _, m := range p.Messages {
				if m.ID == id {
					return f, nil
				}
			}
		}
		return f, nil
	}, func(f found, err error) {
		if gen != c.gen {
			return
		}
		c.loading = false
		if err != nil {
			c.target = ""
			c.u.showError("Reading older messages", err)
			return
		}
		c.prepend(f.ms)
		c.next = f.next
		c.armed = false
		c.rebuild()
		c.armed = true
		if _, ok := c.index[id]; !ok {
			c.target = "" // further back than revealMax: the view stays at the oldest read
			c.list.ScrollToTop()
			return
		}
		c.revealTarget()
	})
}
