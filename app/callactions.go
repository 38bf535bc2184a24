package app

import (
	"fmt"
	"slices"

	"parley/node"
)

// What the user does with calls. Every core call runs in the background, so a
// core that takes its time (ICE, a busy relay) never holds up the window; the
// screen shows the request at once and the core's events confirm it.

// placeCall rings peers: one for a 1:1 call, up to maxCallOthers for a group.
func (u *ui) placeCall(peers []string) { u.placeCallHow(peers, false) }

// placeCallHow places a call, urgent (CallUrgent: it rings through the
// callee's busy presence and their other call) or not.
func (u *ui) placeCallHow(peers []string, urgent bool) {
	uc := u.urgentCore()
	if urgent && uc == nil {
		return
	}
	if u.calls == nil || u.call != nil || len(peers) == 0 || len(peers) > maxCallOthers {
		return
	}
	s := newCallSession("", true, peers...)
	s.state = callCalling
	s.urgent = urgent
	u.call = s
	u.callChanged()
	background(u, func() (string, error) {
		if urgent {
			return uc.CallUrgent(peers...)
		}
		return u.calls.Call(peers...)
	},
		func(id string, err error) {
			if err != nil {
				who := u.callWho(s)
				if u.call == s {
					u.call = nil
					u.callBar.showEnded("Could not call " + who)
					u.callChanged()
				}
				u.showError("Calling "+who, err)
				return
			}
			if u.call == s && s.id == "" {
				s.id = id
				u.callNamed(s)
			}
		})
}

// canCallPeer says whether the open 1:1 conversation can be called, and why
// not (the call button's tooltip).
func (u *ui) canCallPeer(id string) (bool, string) {
	name := u.peerName(id)
	switch {
	case u.call != nil && slices.Contains(u.call.peers, id):
		return false, "You are in a call with " + name
	case u.call != nil:
		return false, "You are already in a call — hang up first"
	case u.peers[id].Blocked:
		return false, "You blocked " + name + " — unblock them to call"
	case !u.peers[id].Online:
		return false, name + " is offline — calls need them online"
	}
	return true, "Call " + name + " (Ctrl+Shift+C)"
}

// roomCallees are the room's members who are online now, best reachable first.
func (u *ui) roomCallees(room string) []node.PeerView {
	var out []node.PeerView
	for _, m := range u.rooms[room].Members {
		if p, ok := u.peers[m]; ok && m != u.self.ID && p.Online {
			out = append(out, p)
		}
	}
	sortPeers(out)
	return out
}

// canCallRoom says whether the open room can be called, and why not.
func (u *ui) canCallRoom(room string) (bool, string) {
	r := u.rooms[room]
	online := u.roomCallees(room)
	switch {
	case !r.Joined:
		return false, "Join #" + u.roomName(room) + " to call its members"
	case u.call != nil:
		return false, "You are already in a call — hang up first"
	case len(online) == 0:
		return false, "Nobody else in #" + u.roomName(room) + " is online"
	case len(online) > maxCallOthers:
		return true, fmt.Sprintf("%d members are online; a call holds %d others — you choose whom (Ctrl+Shift+C)",
			len(online), maxCallOthers)
	}
	var names []string
	for _, p := range online {
		names = append(names, u.peerName(p.ID))
	}
	return true, "Call " + joinNames(names) + " (Ctrl+Shift+C)"
}

// callRoom calls the room's online members; when there are more than a call
// holds, the user picks whom.
func (u *ui) callRoom(room string) {
	if ok, _ := u.canCallRoom(room); !ok {
		return
	}
	online := u.roomCallees(room)
	if len(online) > maxCallOthers {
		u.chooseCallees(room, online)
		return
	}
	var ids []string
	for _, p := range online {
		ids = append(ids, p.ID)
	}
	u.placeCall(ids)
}

// callOpenConversation calls whoever the open conversation is with (the
// header's call button, Ctrl+Shift+C); false when it cannot.
func (u *ui) callOpenConversation() bool {
	switch c := u.conv; {
	case u.calls == nil:
		return false
	case c.peer != "":
		if ok, _ := u.canCallPeer(c.peer); ok {
			u.placeCall([]string{c.peer})
			return true
		}
	case c.room != "":
		if ok, _ := u.canCallRoom(c.room); ok {
			u.callRoom(c.room)
			return true
		}
	}
	return false
}

// answer takes the ringing call.
func (u *ui) answer() bool {
	s := u.call
	if s == nil || s.state != callIncoming || s.answering {
		return false
	}
	s.answering = true
	u.ring.refresh()
	u.syncCallSound() // the ring stops at the click, not when the call connects
	background(u, func() (struct{}, error) { return struct{}{}, u.calls.Answer(s.id) },
		func(_ struct{}, err error) {
			s.answering = false
			if err != nil {
				u.showError("Answering the call", err)
			}
			u.ring.refresh()
		})
	return true
}

// decline refuses the ringing call.
func (u *ui) decline() bool {
	s := u.call
	if s == nil || s.state != callIncoming || s.answering {
		return false
	}
	s.answering = true
	u.ring.refresh()
	u.syncCallSound()
	background(u, func() (struct{}, error) { return struct{}{}, u.calls.Decline(s.id) },
		func(_ struct{}, err error) {
			s.answering = false
			if err != nil {
				u.showError("Declining the call", err)
				u.syncCalls(s)
			}
			u.ring.refresh()
		})
	return true
}

// hangup ends the call (or cancels one still ringing; an incoming one is
// declined).
func (u *ui) hangup() bool {
	s := u.call
	switch {
	case s == nil || s.ending:
		return false
	case s.state == callIncoming:
		return u.decline()
	}
	s.ending = true
	u.callBar.refresh()
	if s.id != "" {
		u.sendHangup(s)
	}
	return true
}

func (u *ui) sendHangup(s *callSession) {
	background(u, func() (struct{}, error) { return struct{}{}, u.calls.Hangup(s.id) },
		func(_ struct{}, err error) {
			if err == nil || u.call != s {
				return
			}
			s.ending = false
			u.callBar.refresh()
			u.showError("Hanging up", err)
			u.syncCalls(s)
		})
}

// toggleMute stops or resumes sending our voice; the button flips at once and
// flips back if the core refuses.
func (u *ui) toggleMute() bool {
	s := u.call
	if s == nil || s.id == "" || s.muting || s.state == callIncoming {
		return false
	}
	on := !s.muted
	s.muted, s.muting = on, true
	u.callBar.refresh()
	background(u, func() (struct{}, error) { return struct{}{}, u.calls.Mute(s.id, on) },
		func(_ struct{}, err error) {
			s.muting = false
			if err != nil {
				s.muted = !on
				what := "Unmuting"
				if on {
					what = "Muting"
				}
				u.showError(what, err)
			}
			u.callBar.refresh()
			u.tray.update()
		})
	return true
}

// urgentCallOpenConversation places an urgent call to the open 1:1
// conversation's peer (the header's Urgent call button).
func (u *ui) urgentCallOpenConversation() bool {
	c := u.conv
	if c.peer == "" || u.urgentCore() == nil {
		return false
	}
	if ok, _ := u.canCallPeer(c.peer); !ok {
		return false
	}
	u.placeCallHow([]string{c.peer}, true)
	return true
}
