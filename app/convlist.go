package app

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// The conversation's rows live in a widget.List with a height per row. Setting a
// row's height on a List that is on screen refreshes the whole list, and that
// refresh sums every row's height: setting n heights costs O(n²). Once a user had
// scrolled 10,000 messages into view, each further page took two seconds (measured
// by BenchmarkScrollHistory). So a full rebuild fills a new List that is not yet on
// screen, where setting a height is a map write, and swaps it in; new messages at
// the end are added to the list on screen, one height each.

func (c *convView) newList() *widget.List {
	var l *widget.List
	l = widget.NewList(
		func() int { return len(c.items) },
		func() fyne.CanvasObject {
			r := newConvRow(c.loadOlder, c.retry, c.u.openLink, c.u.showText)
			r.fileAction = c.u.fileAction
			return r
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { c.bind(i, o.(*convRow)) })
	l.HideSeparators = true
	l.OnSelected = func(i widget.ListItemID) { l.Unselect(i) }
	return l
}

// rebuild derives the rows (older button, day separators, bubbles) and their
// heights into a fresh list, laid out at the old one's size so that callers can
// scroll it at once.
func (c *convView) rebuild() {
	c.items = c.items[:0]
	c.msgItem = c.msgItem[:0]
	c.olderH = 0 // the theme may have changed
	if c.next != "" {
		c.items = append(c.items, convItem{kind: kindOlder, h: c.olderHeight()})
	}
	c.addRows(0)
	old := c.list
	l := c.newList()
	for i, it := range c.items {
		l.SetItemHeight(i, it.h)
	}
	focused := c.u.win != nil && c.u.win.Canvas().Focused() == fyne.Focusable(old)
	c.list = l
	c.listBox.Objects = []fyne.CanvasObject{l, c.newBox}
	l.MinSize() // creates the renderer, so the Resize below lays the rows out
	l.Resize(c.listBox.Size())
	c.listBox.Refresh()
	if focused {
		c.u.win.Canvas().Focus(l)
	}
}

// appendItems adds rows for c.msgs[from:] to the list on screen.
func (c *convView) appendItems(from int) {
	n := len(c.items)
	c.addRows(from)
	for i := n; i < len(c.items); i++ {
		c.list.SetItemHeight(i, c.items[i].h)
	}
	c.list.Refresh()
}

// addRows appends the rows of c.msgs[from:], with a day separator wherever the
// day changes. A separator keeps its day, not its label: "Today" is only true
// until midnight, so bind names the day against the clock each time it draws it.
func (c *convView) addRows(from int) {
	last := ""
	if from > 0 {
		last = c.msgs[from-1].Time.Local().Format(time.DateOnly)
	}
	for i := from; i < len(c.msgs); i++ {
		t := c.msgs[i].Time.Local()
		if d := t.Format(time.DateOnly); d != last {
			c.items = append(c.items, convItem{kind: kindDay, day: t, h: dayHeight()})
			last = d
		}
		c.msgItem = append(c.msgItem, len(c.items))
		c.items = append(c.items, convItem{kind: kindMsg, msg: i, h: c.messageHeight(i)})
	}
}

func (c *convView) olderHeight() float32 {
	if c.olderH == 0 {
		c.olderH = widget.NewButton("Load older messages", nil).MinSize().Height + 2*padding()
	}
	return c.olderH
}

func (c *convView) messageHeight(i int) float32 {
	m := c.msgs[i]
	if h, ok := c.heights[m.ID]; ok {
		return h
	}
	h := bubbleHeight(c.bubble(m))
	c.heights[m.ID] = h
	return h
}

// contentHeight is the height of all rows, as the list lays them out.
func (c *convView) contentHeight() float32 {
	h := float32(0)
	for _, it := range c.items {
		h += it.h
	}
	if n := len(c.items); n > 1 {
		h += float32(n-1) * padding()
	}
	return h
}
