package app

import (
	"fmt"

	"parley/node"
)

// submit sends the composer's text: shown at once as "sending…", confirmed (or
// marked "not sent") when the core answers.
func (c *convView) submit(text string) {
	if c.key == "" {
		return
	}
	if c.urgent != nil && c.urgent.Checked {
		c.submitUrgent(text)
		return
	}
	key, peer, room := c.key, c.peer, c.room
	c.seq++
	tmp := fmt.Sprintf("pending-%d", c.seq)
	m := node.Message{ID: tmp, Conv: key, From: c.u.self.ID, To: peer, Room: room, Text: text,
		Time: c.u.now(), State: stateSending}
	c.appendMessage(m)
	c.u.noteLast(key, m, "")
	c.deliver(key, m)
}

// submitUrgent sends the composer's text as an urgent message (the Urgent
// switch, Ctrl+Shift+Enter); the switch goes off again, as urgency is for one
// message, not a mode to forget on.
func (c *convView) submitUrgent(text string) {
	if c.key == "" {
		return
	}
	if c.urgent != nil {
		c.urgent.SetChecked(false)
	}
	c.u.sendUrgent(c.peer, c.room, text)
}

// retry sends a message the core refused once more, in place: its bubble goes
// back to "sending…" and is settled by resolve like a new one. It keeps its
// provisional ID until then, so a second Retry while the first is under way
// finds it sending and does nothing.
func (c *convView) retry(tmp string) {
	i, ok := c.index[tmp]
	if !ok || c.msgs[i].State != stateFailed {
		return
	}
	c.msgs[i].State = stateSending
	c.refreshItem(c.msgItem[i])
	c.deliver(c.key, c.msgs[i])
}

// deliver hands a provisional message m (still under its provisional ID) to the
// core and resolves it with the answer.
func (c *convView) deliver(key node.Conv, m node.Message) {
	tmp, peer, room, text := m.ID, m.To, m.Room, m.Text
	if room != "" {
		background(c.u, func() (node.Message, error) { return c.u.core.Say(room, text) },
			func(sent node.Message, err error) { c.resolve(key, tmp, sent, err) })
		return
	}
	background(c.u, func() (string, error) { return c.u.core.Send(peer, text) },
		func(id string, err error) {
			sent := m
			sent.ID, sent.State = id, node.StateSent
			c.resolve(key, tmp, sent, err)
		})
}

// resolve replaces a provisional message with the stored one (or marks it failed).
func (c *convView) resolve(key node.Conv, tmp string, sent node.Message, err error) {
	if err != nil {
		c.u.showError("Sending", err)
	}
	if err == nil {
		last := sent
		if last.Time.IsZero() {
			last.Time = c.u.last[key].Time
		}
		c.u.noteLast(key, last, tmp)
	}
	i, ok := c.index[tmp]
	if key != c.key || !ok {
		return // another conversation is open; its history has the message
	}
	if err != nil {
		c.msgs[i].State = stateFailed
		c.refreshItem(c.msgItem[i])
		return
	}
	if sent.State == "" {
		sent.State = node.StateSent
	}
	if sent.Time.IsZero() {
		sent.Time = c.msgs[i].Time
	}
	c.wraps[sent.ID] = c.wraps[tmp]
	if h, ok := c.heights[tmp]; ok {
		c.heights[sent.ID] = h
		delete(c.heights, tmp)
	}
	delete(c.index, tmp)
	c.msgs[i] = sent
	c.index[sent.ID] = i
	c.refreshItem(c.msgItem[i])
}

// stateMark is the delivery mark of an own message.
func stateMark(state string, room bool) string {
	switch state {
	case stateSending:
		return "sending…"
	case stateFailed:
		return "not sent — right-click to retry"
	case node.StateQueued:
		return "queued"
	case node.StateSent:
		return "✓"
	case node.StateDelivered:
		if room {
			return "✓"
		}
		return "✓✓"
	case node.StateRead:
		if room {
			return "✓"
		}
		return "✓✓ read"
	}
	return ""
}
