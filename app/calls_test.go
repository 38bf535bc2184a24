package app

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

func ctrlShift(key string) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: fyne.KeyName(key),
		Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
}

// A core without calls (the plain fake) shows no call button and no sound
// settings, and the rest of the window works as before.
func TestCallUIHiddenWithoutCalls(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.openPeer(bobID)
	if h.tipButton("Call") != nil || h.u.conv.header.call.Visible() {
		t.Fatal("a call button is shown for a core without calls")
	}
	if h.u.shortcut(ctrlShift("C")) || h.u.shortcut(ctrl("D")) {
		t.Error("call shortcuts claimed to act without calls")
	}
	h.u.showSettings()
	if len(h.labelsContaining("Microphone")) > 0 {
		t.Error("sound settings are shown for a core without calls")
	}
}

func TestCallButtonFollowsPresenceAndCallsThePeer(t *testing.T) {
	h, cf := callHarness(t, fivePeers())
	h.openPeer(carolID) // offline
	b := h.tipButton("Call")
	if b == nil || !b.Disabled() {
		t.Fatalf("call button for an offline peer: %+v", b)
	}
	if !strings.Contains(b.tip, "Carol is offline") {
		t.Errorf("tooltip %q does not say why", b.tip)
	}
	test.Tap(b)
	h.u.shortcut(ctrlShift("C"))
	h.pump()
	if ops := cf.calls(); len(ops) != 0 {
		t.Fatalf("an offline peer was called: %q", ops)
	}

	// Hovering shows the reason, leaving hides it.
	b.MouseIn(&desktop.MouseEvent{})
	h.waitFor("the tooltip", func() bool { return h.u.tips.owner == b && h.u.tips.layer.Visible() })
	if !strings.Contains(h.u.tips.text.Text, "Carol is offline") {
		t.Errorf("tooltip shows %q", h.u.tips.text.Text)
	}
	b.MouseOut()
	if h.u.tips.layer.Visible() {
		t.Error("the tooltip stayed after the pointer left")
	}

	h.openPeer(bobID)
	b = h.tipButton("Call")
	if b == nil || b.Disabled() || !strings.Contains(b.tip, "Call Bob") {
		t.Fatalf("call button for online Bob: disabled=%v tip=%q", b != nil && b.Disabled(), b.tip)
	}
	h.emit(node.PeerDown{Peer: peer(bobID, "Bob", "away", "")})
	if !b.Disabled() {
		t.Error("the call button stayed enabled when Bob went offline")
	}
	h.emit(node.PeerUp{Peer: peer(bobID, "Bob", "away", "")})
	if b.Disabled() {
		t.Fatal("the call button stayed disabled when Bob came back")
	}

	test.Tap(b)
	h.waitOps(cf, "call|"+bobID)
	h.waitFor("the call's ID", func() bool { return h.u.call != nil && h.u.call.id == "call-1" })
	bar := h.u.callBar
	if !bar.obj.Visible() || bar.who.Text != "Bob" || bar.state.Text != "Calling…" {
		t.Errorf("call bar visible=%v who=%q state=%q", bar.obj.Visible(), bar.who.Text, bar.state.Text)
	}
	if !b.Disabled() || !strings.Contains(b.tip, "in a call with Bob") {
		t.Errorf("during the call the button is enabled=%v with tip %q", !b.Disabled(), b.tip)
	}
	// The bar stays while another conversation is open.
	h.openPeer(aliceID)
	if !bar.obj.Visible() {
		t.Error("the call bar disappeared with another conversation open")
	}
	if a := h.tipButton("Call"); a == nil || !a.Disabled() || !strings.Contains(a.tip, "already in a call") {
		t.Error("a second call can be started during a call")
	}
}

func TestIncomingCallAnswer(t *testing.T) {
	h, cf := callHarness(t, fivePeers())
	h.u.setFocused(false)
	h.emit(node.CallState{Call: "in-1", Peer: aliceID, State: callIncoming})
	h.emit(node.CallIncoming{Call: "in-1", From: aliceID, Name: "alice", Relay: daveID})
	r := h.u.ring
	if !r.obj.Visible() || r.title.Text != "alice is calling" {
		t.Fatalf("ring card visible=%v title %q", r.obj.Visible(), r.title.Text)
	}
	if !strings.Contains(r.detail.Text, "relayed via Dave") {
		t.Errorf("ring card detail %q does not name the relay", r.detail.Text)
	}
	if !slices.Equal(h.notes, []string{"alice is calling: Open Parley to answer."}) {
		t.Errorf("notifications %q", h.notes)
	}
	if h.u.callBar.obj.Visible() {
		t.Error("the call bar shows while the call only rings")
	}
	if got := h.u.tray.call.Label; got != "alice is calling" {
		t.Errorf("tray says %q", got)
	}

	test.Tap(h.button("Answer"))
	h.waitOps(cf, "answer|in-1")
	h.emit(node.CallState{Call: "in-1", Peer: aliceID, State: callConnecting})
	if r.obj.Visible() {
		t.Error("the ring card stayed after answering")
	}
	if bar := h.u.callBar; !bar.obj.Visible() || bar.state.Text != "Connecting…" {
		t.Errorf("call bar visible=%v state %q", bar.obj.Visible(), bar.state.Text)
	}
	h.emit(node.CallState{Call: "in-1", Peer: aliceID, State: callActive})
	if got := h.u.callBar.state.Text; got != "00:00" {
		t.Errorf("active call shows %q, want the elapsed time", got)
	}
	if got := h.u.tray.call.Label; got != "In call with alice" {
		t.Errorf("tray says %q", got)
	}
}

func TestIncomingGroupCallDecline(t *testing.T) {
	h, cf := callHarness(t, fivePeers())
	h.emit(node.CallIncoming{Call: "in-2", From: daveID, Name: "Dave",
		Participants: []string{daveID, bobID, selfID, eveID}})
	r := h.u.ring
	if r.title.Text != "Dave is calling" || !strings.Contains(r.detail.Text, "Group call with Bob, Eve and you") {
		t.Errorf("ring card %q / %q", r.title.Text, r.detail.Text)
	}
	if len(h.notes) != 0 {
		t.Errorf("notified although the window has focus: %q", h.notes)
	}
	test.Tap(h.button("Decline"))
	h.waitOps(cf, "decline|in-2")
	h.emit(node.CallState{Call: "in-2", Peer: daveID, State: callEnded, Reason: "declined"})
	if r.obj.Visible() || h.button("Answer") != nil {
		t.Error("the ring card stayed after declining")
	}
	if got := h.u.callBar.ended.Text; got != "You declined the call" {
		t.Errorf("after declining the bar says %q", got)
	}
}

// The caller gives up, or nobody answers: the card goes, the bar says it was
// missed, and an unfocused window notifies.
func TestRingingEndsWhenCallerCancelsOrTimesOut(t *testing.T) {
	h, cf := callHarness(t, fivePeers())
	h.u.setFocused(false)
	for _, c := range []struct{ reason, want string }{
		{"cancelled", "Missed call — Eve hung up before you answered"},
		{"timeout", "Missed call from Eve"},
	} {
		h.notes = nil
		id := "ring-" + c.reason
		h.emit(node.CallIncoming{Call: id, From: eveID, Name: "Eve"})
		if !h.u.ring.obj.Visible() {
			t.Fatalf("%s: no ring card", c.reason)
		}
		h.emit(node.CallState{Call: id, Peer: eveID, State: callEnded, Reason: c.reason})
		if h.u.ring.obj.Visible() || h.u.call != nil {
			t.Errorf("%s: the ring card stayed", c.reason)
		}
		if got := h.u.callBar.ended.Text; got != c.want {
			t.Errorf("%s: bar says %q, want %q", c.reason, got, c.want)
		}
		if len(h.labelsContaining(c.want)) == 0 {
			t.Errorf("%s: the reason is not on screen", c.reason)
		}
		if len(h.notes) != 2 || !strings.HasPrefix(h.notes[1], "Missed call: ") {
			t.Errorf("%s: notifications %q", c.reason, h.notes)
		}
	}
	if ops := cf.calls(); len(ops) != 0 {
		t.Errorf("the core was asked %q", ops)
	}
}

func TestCallBarShowsStatsMuteAndHangup(t *testing.T) {
	h, cf := callHarness(t, fivePeers())
	h.openPeer(bobID)
	if !h.u.shortcut(ctrlShift("C")) {
		t.Fatal("Ctrl+Shift+C did not call")
	}
	h.waitOps(cf, "call|"+bobID)
	h.waitFor("the call's ID", func() bool { return h.u.call != nil && h.u.call.id == "call-1" })
	h.emit(node.CallState{Call: "call-1", Peer: bobID, State: callRinging, Outgoing: true})
	bar := h.u.callBar
	if bar.state.Text != "Ringing…" {
		t.Errorf("state %q", bar.state.Text)
	}
	h.emit(node.CallState{Call: "call-1", Peer: bobID, State: callActive, Outgoing: true})
	if bar.quality.Text != "Waiting for audio…" || bar.meter.level != 0 {
		t.Errorf("before stats: %q, meter %v", bar.quality.Text, bar.meter.level)
	}
	h.emit(node.CallStats{Call: "call-1", Peer: bobID, RTTms: 23.4, Loss: 0.012, Relay: eveID, RelayName: "Eve",
		Path: "relay/relay", Codec: "opus", Level: 0.1})
	for _, want := range []string{"23 ms", "1.2 % loss", "via Eve", "Good"} {
		if !strings.Contains(bar.quality.Text, want) {
			t.Errorf("quality %q lacks %q", bar.quality.Text, want)
		}
	}
	if bar.meter.level <= 0.5 {
		t.Errorf("level 0.1 RMS (−20 dBFS) shows as %v", bar.meter.level)
	}
	// Stats of another call change nothing.
	h.emit(node.CallStats{Call: "other", Peer: bobID, RTTms: 900, Loss: 0.5})
	if !strings.Contains(bar.quality.Text, "23 ms") {
		t.Errorf("another call's stats shown: %q", bar.quality.Text)
	}

	// The button flips at once. A stats event still saying "not muted" (sent
	// before the core muted) does not flip it back while Mute is in flight;
	// after that the core's word counts.
	release := cf.hold()
	test.Tap(h.button("Mute"))
	if h.button("Unmute") == nil || !strings.HasPrefix(bar.quality.Text, "You are muted") {
		t.Errorf("muted call shows %q", bar.quality.Text)
	}
	h.waitOps(cf, "call|"+bobID, "mute|call-1|true")
	h.emit(node.CallStats{Call: "call-1", Peer: bobID, RTTms: 20, Level: 0.1})
	if h.button("Unmute") == nil {
		t.Error("a stale stats event flipped the mute button back")
	}
	release()
	h.waitFor("the mute to settle", func() bool { return !h.u.call.muting })
	h.emit(node.CallStats{Call: "call-1", Peer: bobID, RTTms: 20, Muted: true, Level: 0.1})
	if h.button("Unmute") == nil {
		t.Error("the mute button flipped back")
	}

	test.Tap(h.button("Hang up"))
	h.waitOps(cf, "call|"+bobID, "mute|call-1|true", "hangup|call-1")
	if bar.state.Text != "Hanging up…" {
		t.Errorf("after Hang up the state is %q", bar.state.Text)
	}
	h.emit(node.CallState{Call: "call-1", Peer: bobID, State: callEnded, Reason: "hangup", Outgoing: true})
	if !strings.HasPrefix(bar.ended.Text, "You ended the call · 00:0") {
		t.Errorf("ended text %q", bar.ended.Text)
	}
	if bar.live.Visible() || h.button("Hang up") != nil {
		t.Error("call controls stay after the call ended")
	}
	if b := h.tipButton("Call"); b == nil || b.Disabled() {
		t.Error("the call button is not enabled again after the call")
	}
	if len(h.u.tray.callItems()) != 0 {
		t.Error("the tray still shows a call")
	}
}

// Ending reasons from the far side, as the caller sees them.
func TestOutgoingCallEndsWithReason(t *testing.T) {
	h, cf := callHarness(t, fivePeers())
	h.openPeer(bobID)
	for i, c := range []struct{ reason, want string }{
		{"declined", "Bob declined the call"},
		{"busy", "Bob is in another call"},
		{"timeout", "No answer from Bob"},
		{"peer_lost", "Connection to Bob lost"},
	} {
		test.Tap(h.tipButton("Call"))
		id := "call-" + string(rune('1'+i))
		h.waitFor("the call's ID", func() bool { return h.u.call != nil && h.u.call.id == id })
		h.emit(node.CallState{Call: id, Peer: bobID, State: callEnded, Reason: c.reason, Outgoing: true})
		if got := h.u.callBar.ended.Text; got != c.want {
			t.Errorf("%s: %q, want %q", c.reason, got, c.want)
		}
	}
	if n := len(cf.calls()); n != 4 {
		t.Errorf("%d calls placed", n)
	}
}

func TestCallFailureShownPlainly(t *testing.T) {
	h, cf := callHarness(t, fivePeers())
	cf.callErr = errors.New("call bob: peer is not online")
	h.openPeer(bobID)
	test.Tap(h.tipButton("Call"))
	h.waitFor("the error", func() bool { return len(h.labelsContaining("peer is not online")) > 0 })
	if h.u.call != nil || h.u.callBar.ended.Text != "Could not call Bob" {
		t.Errorf("after a failed call: session %v, bar %q", h.u.call, h.u.callBar.ended.Text)
	}
}

// Events about the call arrive before Call returns (the node reports
// "calling" from inside Call): the window follows them at once.
func TestCallEventsBeforeCallReturns(t *testing.T) {
	h, cf := callHarness(t, fivePeers())
	release := cf.hold()
	h.openPeer(bobID)
	test.Tap(h.tipButton("Call"))
	h.waitFor("the ID from the calling event", func() bool { return h.u.call != nil && h.u.call.id == "call-1" })
	h.emit(node.CallState{Call: "call-1", Peer: bobID, State: callRinging, Outgoing: true})
	if got := h.u.callBar.state.Text; got != "Ringing…" || cf.pending() != 1 {
		t.Fatalf("state %q with Call pending=%d", got, cf.pending())
	}
	// Hang up goes out with the ID from the event, while Call still blocks.
	test.Tap(h.button("Hang up"))
	h.waitOps(cf, "call|"+bobID, "hangup|call-1")
	if cf.pending() != 2 {
		t.Errorf("%d commands pending, want Call and Hangup", cf.pending())
	}
	release()
	h.waitFor("the fake to finish", func() bool { return cf.pending() == 0 })
}

// Hang up pressed before the core has named the call: it goes out as soon as
// the ID is known.
func TestHangupBeforeTheCallHasAnID(t *testing.T) {
	fc := fivePeers()
	test.NewTempApp(t)
	cf := newCallFake(fc)
	cf.callDelay = 300 * time.Millisecond
	h := newHarnessFor(t, cf)
	h.openPeer(bobID)
	test.Tap(h.tipButton("Call"))
	if !h.u.shortcut(ctrl("D")) {
		t.Fatal("Ctrl+D did nothing during a call")
	}
	if h.u.callBar.state.Text != "Hanging up…" {
		t.Errorf("state %q", h.u.callBar.state.Text)
	}
	h.waitOps(cf, "call|"+bobID, "hangup|call-1")
}

func TestCallRoomMembers(t *testing.T) {
	fc := fivePeers()
	room := roomID("ops")
	fc.rooms[room] = node.Room{ID: room, Name: "ops", Joined: true,
		Members: []string{selfID, daveID, carolID, bobID, aliceID}}
	h, cf := callHarness(t, fc)
	h.u.openRoom(room)
	h.waitFor("the room", func() bool { return !h.u.conv.loading })
	b := h.tipButton("Call room")
	if b == nil || b.Disabled() || !strings.Contains(b.tip, "Call alice, Bob and Dave") {
		t.Fatalf("room call button: %+v", b)
	}
	test.Tap(b)
	// Carol is offline; the others in presence order.
	h.waitOps(cf, "call|"+aliceID+","+bobID+","+daveID)
	h.waitFor("the call's ID", func() bool { return h.u.call != nil && h.u.call.id == "call-1" })
	if got := h.u.callBar.who.Text; got != "alice, Bob and Dave" {
		t.Errorf("bar names %q", got)
	}
}

// More members online than a call holds: the user picks, at most five.
func TestCallBigRoomAsksWhom(t *testing.T) {
	var peers []node.PeerView
	members := []string{selfID}
	for _, n := range []string{"Ann", "Ben", "Cat", "Dan", "Eli", "Fay", "Gus"} {
		id := mkID(n)
		peers = append(peers, peer(id, n, "available", ""))
		members = append(members, id)
	}
	fc := newFakeCore(peers...)
	room := roomID("all-hands")
	fc.rooms[room] = node.Room{ID: room, Name: "all-hands", Joined: true, Members: members}
	h, cf := callHarness(t, fc)
	h.u.openRoom(room)
	b := h.tipButton("Call room")
	if b == nil || !strings.Contains(b.tip, "7 members are online") {
		t.Fatalf("tip %q", b.tip)
	}
	test.Tap(b)
	if len(h.labelsContaining("a call holds you and 5 others")) == 0 {
		t.Fatal("no chooser saying how many a call holds")
	}
	if len(h.labelsContaining("5 of 5 chosen")) == 0 {
		t.Error("the first five are not ticked")
	}
	var picks *widget.CheckGroup
	h.everything(func(o fyne.CanvasObject) {
		if cg, ok := o.(*widget.CheckGroup); ok {
			picks = cg
		}
	})
	if picks == nil || len(picks.Options) != 7 {
		t.Fatalf("chooser options %v", picks)
	}
	picks.SetSelected(append(slices.Clone(picks.Selected), "Gus")) // a sixth
	if len(picks.Selected) != 5 || slices.Contains(picks.Selected, "Gus") {
		t.Errorf("a sixth could be ticked: %q", picks.Selected)
	}
	if len(h.labelsContaining("At most 5")) == 0 {
		t.Error("no word on why the sixth was refused")
	}
	test.Tap(h.button("Call"))
	want := "call|" + strings.Join([]string{mkID("Ann"), mkID("Ben"), mkID("Cat"), mkID("Dan"), mkID("Eli")}, ",")
	h.waitOps(cf, want)
}

func TestCallShortcutsOutsideACall(t *testing.T) {
	h, cf := callHarness(t, fivePeers())
	if h.u.shortcut(ctrl("D")) || h.u.shortcut(ctrlShift("A")) || h.u.shortcut(ctrlShift("M")) {
		t.Error("call shortcuts claimed to act without a call")
	}
	if h.u.shortcut(ctrlShift("C")) {
		t.Error("Ctrl+Shift+C acted with no conversation open")
	}
	h.emit(node.CallIncoming{Call: "in-9", From: aliceID})
	if !h.u.shortcut(ctrlShift("A")) {
		t.Fatal("Ctrl+Shift+A did not answer")
	}
	h.waitOps(cf, "answer|in-9")
}

// A call already in progress when the window opens is shown.
func TestCallInProgressAtStart(t *testing.T) {
	test.NewTempApp(t)
	cf := newCallFake(fivePeers())
	cf.active = []node.CallInfo{{Call: "c0", Peer: bobID, Name: "Bob", State: callActive, Outgoing: true}}
	h := newHarnessFor(t, cf)
	if h.u.call == nil || h.u.callBar.who.Text != "Bob" || !h.u.callBar.obj.Visible() {
		t.Fatal("the call in progress is not shown")
	}
}
