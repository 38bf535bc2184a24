package app

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// convHeader names the open conversation and holds its actions.
type convHeader struct {
	c        *convView
	dot      *canvas.Circle
	title    *widget.Label
	verified *widget.Icon // shown for a peer whose safety number the user checked
	hosted   *guestBadge  // "phone" or "guest" for a hosted client (guestbadge.go)
	subtitle *subtleLabel
	warning  *widget.Label
	details  *widget.Button
	topic    *widget.Button
	members  *widget.Button
	leave    *widget.Button
	join     *widget.Button
	call     *tipButton // 1:1: call the peer
	callRoom *tipButton // room: call its online members
	urgent   *tipButton // 1:1: an urgent call (nil without an urgent core)
	obj      fyne.CanvasObject
}

func newConvHeader(c *convView) *convHeader {
	h := &convHeader{c: c,
		dot:      canvas.NewCircle(presenceColour(node.PresenceOffline)),
		title:    widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		subtitle: newSubtleLabel(theme.SizeNameText),
		warning:  widget.NewLabel(""),
		verified: widget.NewIcon(verifiedIcon),
		hosted:   newGuestBadge(),
	}
	h.verified.Hide()
	h.hosted.Hide()
	h.title.SizeName = theme.SizeNameSubHeadingText
	h.title.Truncation = fyne.TextTruncateEllipsis
	h.warning.Importance = widget.WarningImportance
	h.warning.Wrapping = fyne.TextWrapWord
	h.warning.Hide()
	u := c.u
	h.details = widget.NewButton("Details", func() { u.showPeerDetails(c.peer) })
	h.topic = widget.NewButton("Topic…", func() { u.editTopic(c.room) })
	h.members = widget.NewButton("Members", func() { u.showMembers(c.room) })
	h.leave = widget.NewButton("Leave", func() { u.leaveRoom(c.room) })
	h.join = widget.NewButton("Join", func() { u.joinRoom(c.room, nil, nil) })
	h.call = newTipButton(u, "Call", callIcon, func() { u.callOpenConversation() })
	h.callRoom = newTipButton(u, "Call room", callIcon, func() { u.callOpenConversation() })
	h.call.Hide()
	h.callRoom.Hide()
	callButtons := []fyne.CanvasObject{h.call, h.callRoom}
	if u.urgentCore() != nil {
		h.urgent = newTipButton(u, "Urgent call", callIcon, func() { u.urgentCallOpenConversation() })
		h.urgent.Importance = widget.DangerImportance
		h.urgent.Hide()
		callButtons = append(callButtons, h.urgent)
	}
	dot := container.NewCenter(container.NewGridWrap(fyne.NewSize(12, 12), h.dot))
	buttons := container.NewCenter(container.NewHBox(append(callButtons, h.details, h.topic, h.members, h.leave, h.join)...))
	name := container.NewBorder(nil, nil, container.NewHBox(dot, h.verified, h.hosted), nil, h.title)
	top := container.NewBorder(nil, nil, nil, buttons,
		container.New(layout.NewCustomPaddedVBoxLayout(0), name, h.subtitle))
	h.obj = container.NewVBox(top, h.warning, widget.NewSeparator())
	return h
}

func (h *convHeader) object() fyne.CanvasObject { return h.obj }

// refreshHeader redraws the header, the offline notice and the composer's state.
func (c *convView) refreshHeader() {
	h := c.header
	notice := ""
	enabled := true
	placeholder := ""
	switch {
	case c.peer != "":
		p := c.u.peers[c.peer]
		name := c.u.peerName(c.peer)
		h.dot.FillColor = presenceColour(p.Presence)
		if p.Blocked {
			h.dot.FillColor = presenceColour(node.PresenceOffline)
		}
		h.dot.Show()
		h.title.SetText(name)
		h.subtitle.SetText(peerSubtitle(p))
		c.u.showTrustWarning(h.warning, c.peer)
		if p.Verified {
			h.verified.Show()
		} else {
			h.verified.Hide()
		}
		if kind := hostedKind(p); kind != "" {
			h.hosted.setKind(kind)
			h.hosted.Show()
		} else {
			h.hosted.Hide()
		}
		showOnly([]*widget.Button{h.details}, h.details, h.topic, h.members, h.leave, h.join)
		placeholder = "Message " + name + " — Enter sends, Shift+Enter adds a line"
		switch {
		case p.Blocked:
			notice = "You blocked " + name + ": nothing is sent to or received from them. " +
				"Unblock them in Details to write again."
			placeholder, enabled = "", false
		case !p.Online:
			notice = name + " is offline — your message will be queued and delivered when they return."
		}
	case c.room != "":
		r := c.u.rooms[c.room]
		h.dot.Hide()
		h.title.SetText("# " + c.u.roomName(c.room))
		// Who can see the room first: a long topic is what gets cut.
		sub := roomAudience(c.u.self.Team) + " · " + membersText(len(r.Members))
		if r.Topic != "" {
			sub += " · " + r.Topic
		}
		h.subtitle.SetText(sub)
		h.warning.Hide()
		h.verified.Hide()
		h.hosted.Hide()
		if r.Joined {
			showOnly([]*widget.Button{h.topic, h.members, h.leave}, h.details, h.topic, h.members, h.leave, h.join)
			placeholder = "Message #" + r.Name + " — Enter sends, Shift+Enter adds a line"
		} else {
			showOnly([]*widget.Button{h.members, h.join}, h.details, h.topic, h.members, h.leave, h.join)
			notice = "You are not a member of #" + r.Name + " — join it to write here."
			enabled = false
		}
	default:
		return
	}
	c.refreshCallButtons()
	if c.talk != nil {
		c.talk.refresh()
	}
	h.dot.Refresh()
	defer c.body.(*fyne.Container).Refresh() // shown/hidden parts change the layout
	defer h.obj.(*fyne.Container).Refresh()
	c.notice.SetText(notice)
	if notice == "" {
		c.notice.Hide()
	} else {
		c.notice.Show()
	}
	c.composer.SetPlaceHolder(placeholder)
	if enabled {
		c.composer.Enable()
		c.send.Enable()
	} else {
		c.composer.Disable()
		c.send.Disable()
	}
	if c.urgent != nil {
		enable(c.urgent, enabled)
	}
	if c.attach != nil {
		ok, tip := c.u.canSendFiles()
		enable(c.attach, ok)
		c.attach.SetTip(tip)
	}
}

// refreshCallButtons shows the open conversation's call button, enabled when a
// call can start, with the reason in its tooltip either way.
func (c *convView) refreshCallButtons() {
	h := c.header
	var show, hide *tipButton
	var ok bool
	var tip string
	switch {
	case c.u.calls == nil:
		h.call.Hide()
		h.callRoom.Hide()
		return
	case c.peer != "":
		show, hide = h.call, h.callRoom
		ok, tip = c.u.canCallPeer(c.peer)
	default:
		show, hide = h.callRoom, h.call
		ok, tip = c.u.canCallRoom(c.room)
	}
	hide.Hide()
	c.u.tips.hide(hide)
	enable(show, ok)
	show.SetTip(tip)
	show.Show()
	if h.urgent != nil {
		if c.peer == "" {
			h.urgent.Hide()
			c.u.tips.hide(h.urgent)
			return
		}
		enable(h.urgent, ok)
		if ok {
			tip = "Urgent call to " + c.u.peerName(c.peer) + ": rings even when they are busy or in a call, with an alarm"
		}
		h.urgent.SetTip(tip)
		h.urgent.Show()
	}
}

func showOnly(visible []*widget.Button, all ...*widget.Button) {
	for _, b := range all {
		b.Hide()
	}
	for _, b := range visible {
		b.Show()
	}
}

// peerSubtitle is presence, status text, or when the peer was last seen.
func peerSubtitle(p node.PeerView) string {
	if p.Blocked {
		return "Blocked"
	}
	if !p.Online {
		s := "Offline"
		if p.LastSeen != nil {
			s += " · last seen " + p.LastSeen.Local().Format("2 Jan 15:04")
		}
		return s
	}
	s := presenceLabel(p.Presence)
	if p.Status != "" {
		s += " — " + p.Status
	}
	return s
}

// conflictWarning says that other keys use the same display name, in one
// sentence however many there are (a line per impostor pushed the
// conversation down by as many lines).
func conflictWarning(others []node.PeerView) string {
	fps := make([]string, len(others))
	for i, o := range others {
		fps[i] = o.Fingerprint
		if fps[i] == "" {
			fps[i] = "unknown, peer ID " + o.ID
		}
	}
	if len(others) == 1 {
		return "⚠ Another peer uses the name " + others[0].Name + " with a different key (fingerprint " + fps[0] +
			"). Compare safety numbers before trusting either."
	}
	return "⚠ " + strconv.Itoa(len(others)) + " other peers use the name " + others[0].Name +
		" with different keys (fingerprints " + strings.Join(fps, "; ") +
		"). Compare safety numbers before trusting any of them."
}
