package app

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
)

// stripCards is how many cards the strip shows before it scrolls, so a pile
// of files never pushes the messages off the screen.
const stripCards = 2

// transferStrip sits above the composer and holds the cards of the open
// conversation's files. Transfers live in ui.transfers whichever
// conversation is open, so switching away and back finds them as they were.
type transferStrip struct {
	u      *ui
	cards  map[string]*transferCard // by transfer ID, only those shown
	box    *fyne.Container
	scroll *container.Scroll
}

func newTransferStrip(u *ui) *transferStrip {
	s := &transferStrip{u: u, cards: map[string]*transferCard{}, box: container.NewVBox()}
	s.scroll = container.NewVScroll(s.box)
	s.scroll.Hide()
	return s
}

func (s *transferStrip) object() fyne.CanvasObject { return s.scroll }

// shown are the open conversation's transfers, oldest first.
func (s *transferStrip) shown() []*transfer {
	var out []*transfer
	if s.u.conv == nil || s.u.conv.key == "" {
		return nil
	}
	for _, t := range s.u.transfers {
		if t.conv == s.u.conv.key {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *transfer) int { return a.seq - b.seq })
	return out
}

// refresh rebuilds the strip for the open conversation (cards come and go).
func (s *transferStrip) refresh() {
	list := s.shown()
	// A conversation read at its newest message stays there when the strip
	// takes room from it, as when a message arrives.
	stick := s.u.conv != nil && s.u.conv.key != "" && s.u.conv.atBottom()
	cards := map[string]*transferCard{}
	objs := make([]fyne.CanvasObject, 0, len(list))
	for _, t := range list {
		c, ok := s.cards[t.id]
		if !ok || c.t != t {
			c = newTransferCard(s.u, t)
		} else {
			c.refresh()
		}
		cards[t.id] = c
		objs = append(objs, c.obj)
	}
	s.cards = cards
	s.box.Objects = objs
	s.box.Refresh()
	wasShown := s.scroll.Visible()
	if len(objs) == 0 {
		s.scroll.Hide()
	} else {
		h := float32(0)
		for i, o := range objs[:min(len(objs), stripCards)] {
			if i > 0 {
				h += padding()
			}
			h += o.MinSize().Height
		}
		s.scroll.SetMinSize(fyne.NewSize(0, h))
		s.scroll.Show()
		s.scroll.ScrollToBottom()
	}
	if s.u.conv != nil && (wasShown || len(objs) > 0) {
		s.u.conv.body.(*fyne.Container).Refresh() // the composer area changed height
		if stick {
			s.u.conv.list.ScrollToBottom()
		}
	}
}

// update redraws one transfer's card, or the strip when the card is new.
func (s *transferStrip) update(t *transfer) {
	if c, ok := s.cards[t.id]; ok && c.t == t {
		c.refresh()
		return
	}
	if s.u.conv != nil && t.conv == s.u.conv.key {
		s.refresh()
	}
}
