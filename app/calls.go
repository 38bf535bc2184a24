package app

import (
	"context"
	"slices"
	"time"

	"parley/node"
)

// callSession is the call the window shows. The core takes one call at a time
// (a second caller gets "busy"), so there is at most one.
type callSession struct {
	// id is "" while an outgoing call is being placed: the core names it in
	// its first call_state event or when Call returns, whichever comes first.
	id       string
	peers    []string          // the others in the call, the one it is with first
	names    map[string]string // names the core told us, for peers not in the roster
	outgoing bool
	state    string
	since    time.Time           // when it became active
	relay    string              // incoming: the peer that will relay the media
	stats    map[string]legStats // by peer: the latest figures of each leg

	muted     bool
	muting    bool // a Mute is in flight: stats do not overwrite muted meanwhile
	answering bool // Answer or Decline is in flight
	ending    bool // the user hung up; Hangup goes out once the call has an ID
	notified  bool // the incoming-call notification was shown
	urgent    bool // an urgent call (rings through busy; sounds the alarm)
}

// legStats are a leg's latest figures and when they came.
type legStats struct {
	node.CallStats
	at time.Time
}

func newCallSession(id string, outgoing bool, peers ...string) *callSession {
	return &callSession{id: id, outgoing: outgoing, peers: peers,
		names: map[string]string{}, stats: map[string]legStats{}}
}

func (s *callSession) group() bool { return len(s.peers) > 1 }

// callName is a participant's name: the roster's, else the one the core sent.
func (u *ui) callName(s *callSession, id string) string {
	if _, known := u.peers[id]; !known && s.names[id] != "" {
		return s.names[id]
	}
	return u.peerName(id)
}

// callWho names everyone else in the call.
func (u *ui) callWho(s *callSession) string {
	var names []string
	for _, p := range s.peers {
		names = append(names, u.callName(s, p))
	}
	return joinNames(names)
}

// sessionFor finds the session an event is about. An outgoing call still
// being placed takes the first ID the core reports; a call this window knows
// nothing about (placed by a script through --control, or the first news of
// an incoming one) becomes the session. Events about an earlier call are
// dropped.
func (u *ui) sessionFor(id, peer, state string, outgoing bool) *callSession {
	s := u.call
	switch {
	case s != nil && s.id == id:
		return s
	case s != nil && s.id == "" && outgoing:
		s.id = id
		u.callNamed(s)
		return s
	case s != nil || state == callEnded || id == "":
		return nil
	}
	s = newCallSession(id, outgoing, peer)
	u.call = s
	return s
}

// onCallState follows a call through its states.
func (u *ui) onCallState(e node.CallState) {
	s := u.sessionFor(e.Call, e.Peer, e.State, e.Outgoing)
	if s == nil {
		return
	}
	if e.State == callEnded {
		u.callEnded(s, endedText(e.Reason, s.outgoing, s.group(), u.callWho(s)), e.Reason)
		return
	}
	if e.State == callActive && s.since.IsZero() {
		s.since = time.Now()
	}
	s.state = e.State
	u.callChanged()
}

// onCallIncoming shows who is calling and, when the window is in the
// background, a desktop notification.
func (u *ui) onCallIncoming(e node.CallIncoming) {
	s := u.sessionFor(e.Call, e.From, callIncoming, false)
	if s == nil {
		return
	}
	if s.state == "" {
		s.state = callIncoming
	}
	s.relay = e.Relay
	s.urgent = s.urgent || e.Urgent
	if e.Name != "" {
		s.names[e.From] = e.Name
	}
	// Participants lists the caller first; we are somewhere among the rest.
	if len(e.Participants) > 2 {
		s.peers = slices.DeleteFunc(slices.Clone(e.Participants), func(p string) bool { return p == u.self.ID })
	}
	if !u.focused && !s.notified && s.state == callIncoming {
		s.notified = true
		title := u.callName(s, e.From) + " is calling"
		body := "Open Parley to answer."
		if s.group() {
			body = "A group call with " + u.callWho(s) + ". Open Parley to answer."
		}
		if s.urgent {
			title = "URGENT: " + title
		}
		u.notify(title, body)
	}
	u.callChanged()
	if s.urgent && s.state == callIncoming {
		u.showWindow() // background.go: an urgent call comes out of the tray
	}
}

// onCallStats keeps the latest figures of each leg.
func (u *ui) onCallStats(e node.CallStats) {
	s := u.call
	if s == nil || s.id != e.Call {
		return
	}
	s.stats[e.Peer] = legStats{e, time.Now()}
	if !s.muting {
		s.muted = e.Muted
	}
	u.callBar.refresh()
}

// callEnded drops the session and says why it ended.
func (u *ui) callEnded(s *callSession, text, reason string) {
	if u.call != s {
		return
	}
	if !s.since.IsZero() {
		text += " · " + elapsed(time.Since(s.since))
	}
	u.call = nil
	missed := !s.outgoing && s.since.IsZero() && (reason == "timeout" || reason == "cancelled")
	if missed && !u.focused {
		u.notify("Missed call", text)
	}
	u.callBar.showEnded(text)
	u.callChanged()
}

// callNamed runs once an outgoing call has its ID: a Hangup the user asked for
// while the call was being placed goes out now.
func (u *ui) callNamed(s *callSession) {
	if s.ending {
		u.sendHangup(s)
	}
}

// callChanged redraws everything that shows the call.
func (u *ui) callChanged() {
	u.ring.refresh()
	u.callBar.refresh()
	u.conv.refreshHeader()
	u.tray.update()
	u.syncCallSound()
	if s := u.call; s != nil && s.state == callActive {
		u.startCallClock()
	} else {
		u.stopCallClock()
	}
}

// callBandChanged lays the window out again when the band above the panes
// changes what it shows: a container makes no room for a child shown after
// its last layout. Only on a change, as a relayout refreshes the whole window.
func (u *ui) callBandChanged(shows string) {
	if shows == u.callShown || u.main == nil {
		return
	}
	u.callShown = shows
	u.main.Refresh()
}

// startCallClock ticks the elapsed time once a second. Stats also arrive once
// a second, but not when the network stalls, and then the clock must go on.
func (u *ui) startCallClock() {
	if u.stopClock != nil {
		return
	}
	ctx, cancel := context.WithCancel(u.ctx)
	u.stopClock = cancel
	go u.every(ctx, time.Second, u.callBar.refresh)
}

func (u *ui) stopCallClock() {
	if u.stopClock != nil {
		u.stopClock()
		u.stopClock = nil
	}
}

// adoptCalls shows a call the core already had when the window opened.
func (u *ui) adoptCalls(calls []node.CallInfo) {
	for _, c := range calls {
		if u.call != nil || c.State == callEnded {
			return
		}
		peers := []string{c.Peer}
		if len(c.Participants) > 2 {
			peers = slices.DeleteFunc(slices.Clone(c.Participants), func(p string) bool { return p == u.self.ID })
		}
		s := newCallSession(c.Call, c.Outgoing, peers...)
		s.state, s.names[c.Peer] = c.State, c.Name
		if c.State == callActive {
			s.since = time.Now()
		}
		u.call = s
		u.callChanged()
	}
}

// syncCalls asks the core which calls it still has and drops the session if
// its call is gone (after a failed Hangup, e.g. when its end was missed).
func (u *ui) syncCalls(s *callSession) {
	background(u, func() ([]node.CallInfo, error) { return u.calls.Calls(), nil },
		func(calls []node.CallInfo, _ error) {
			if u.call != s || s.id == "" {
				return
			}
			if !slices.ContainsFunc(calls, func(c node.CallInfo) bool { return c.Call == s.id }) {
				u.callEnded(s, "Call ended", "")
			}
		})
}
