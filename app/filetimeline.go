package app

import (
	"slices"
	"time"

	"parley/node"
)

// Files in the conversation timeline (issue 20, item 2): every file sent or
// received sits among the messages at the time it was offered, and stays
// there after a restart — the core keeps every transfer in its store and lists
// it with that time (node.Transfer.Time). The cards above the composer remain
// for what needs an answer or is under way (Accept, Decline, progress); the
// timeline entry is the record, with Open and Show in folder.
//
// A file is shown as a message of its own kind: State stateFile, ID the
// transfer's behind a prefix no chat message ID has (they are hex), so the
// list, its heights and its paging need nothing new.

const (
	stateFile  = "file"   // a timeline entry for a transfer, not a message
	fileIDMark = "\x00f:" // prefix of a file entry's ID
)

// fileMessage is the timeline entry of a transfer.
func (u *ui) fileMessage(t *transfer) node.Message {
	from := t.peer
	if t.out {
		from = u.self.ID
	}
	return node.Message{ID: fileIDMark + t.id, Conv: t.conv, From: from, Room: t.room,
		Text: "📎 " + t.name, Time: t.at, State: stateFile}
}

// isFile says whether a timeline entry is a file, and which transfer.
func isFile(m node.Message) (string, bool) {
	if m.State != stateFile || len(m.ID) < len(fileIDMark) || m.ID[:len(fileIDMark)] != fileIDMark {
		return "", false
	}
	return m.ID[len(fileIDMark):], true
}

// logTransfer records a transfer for the timelines (never a provisional one:
// it has no ID the core knows, and its card says what happens), puts it in
// the open conversation when it belongs there, and lets the chat list show it.
func (u *ui) logTransfer(t *transfer) {
	if t.state == xferPreparing || t.id == "" {
		return
	}
	if t.at.IsZero() {
		t.at = u.now()
	}
	if t.conv == "" {
		t.conv = node.ConvOf(t.peer, t.room)
	}
	if old, ok := u.xferLog[t.id]; ok && old != t {
		t.at = old.at // the same file, learnt again (a lookup): keep its place
	}
	u.xferLog[t.id] = t
	m := u.fileMessage(t)
	u.noteLast(t.conv, m, "")
	if u.conv.key == t.conv && !u.conv.loading {
		u.conv.appendMessage(m)
	}
}

// fileChanged redraws a file's timeline entry after its state changed.
func (u *ui) fileChanged(t *transfer) {
	if u.xferLog[t.id] == t {
		u.conv.stateChanged(fileIDMark + t.id)
	}
}

// mergeFiles puts the open conversation's files among its loaded messages:
// those at or after the oldest loaded message, or all of them once the
// history's start is loaded. It runs after each page, before the rows are
// rebuilt; files already placed stay where they are.
func (c *convView) mergeFiles() {
	var oldest time.Time
	if c.next != "" {
		for _, m := range c.msgs {
			if _, f := isFile(m); !f {
				oldest = m.Time
				break
			}
		}
	}
	var add []*transfer
	for _, t := range c.u.xferLog {
		if t.conv != c.key {
			continue
		}
		if _, shown := c.index[fileIDMark+t.id]; shown || t.at.Before(oldest) {
			continue
		}
		add = append(add, t)
	}
	if len(add) == 0 {
		return
	}
	slices.SortFunc(add, func(a, b *transfer) int { return a.at.Compare(b.at) })
	for _, t := range add {
		m := c.u.fileMessage(t)
		i, _ := slices.BinarySearchFunc(c.msgs, m.Time, func(x node.Message, at time.Time) int {
			if x.Time.After(at) {
				return 1
			}
			return -1
		})
		c.msgs = slices.Insert(c.msgs, i, m)
	}
	c.reindex()
}

// fileBubble is how a file's entry looks: its name, then size and state,
// one line each (cut to fit, so the height never changes as the state does).
func (c *convView) fileBubble(m node.Message, id string) bubble {
	t := c.u.xferLog[id]
	b := bubble{meta: m.Time.Local().Format("15:04"), text: m.Text, file: id}
	if t == nil {
		b.lines = []string{m.Text, ""}
		return b
	}
	b.own = t.out
	if c.room != "" && !t.out {
		b.name = c.u.peerName(t.peer)
	}
	detail := humanSize(t.size)
	switch t.state {
	case xferOffered:
		detail += " · offered"
		if !t.out {
			detail += " — Accept or Decline below"
		}
	case xferActive:
		detail = progressLine(t) // it names the size itself
	case xferDone:
		if t.out {
			detail += " · sent"
		} else {
			detail += " · saved — right-click to open or show in folder"
		}
	default:
		detail = t.reason
		if detail == "" {
			detail = t.state
		}
	}
	size := textSize()
	b.lines = []string{fitLine(m.Text, size), fitLine(detail, size)}
	// An own file is its source, there all along; a received one once saved.
	b.canOpen = t.path != "" && (t.out || t.state == xferDone)
	return b
}

// fitLine cuts s to the bubble's width, with an ellipsis when cut.
func fitLine(s string, size float32) string {
	if textWidth(s, size, false) <= bubbleTextWidth {
		return s
	}
	n := fitRunes(s, bubbleTextWidth-textWidth("…", size, false), size)
	return s[:n] + "…"
}

// fileAction opens a file of the timeline, or the folder it is in.
func (u *ui) fileAction(id string, folder bool) {
	t := u.xferLog[id]
	if t == nil || t.path == "" {
		return
	}
	if folder {
		u.showInFolder(t)
	} else {
		u.openFile(t)
	}
}
