package app

import (
	"slices"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"parley/node"
)

// pttFake is the fake core with push-to-talk: it records "ptt|room|on",
// "talkgroup|room|on" and "replay|room".
type pttFake struct {
	*fakeCore
	pmu    sync.Mutex
	ops    []string
	groups []string
}

func (f *pttFake) rec(op string) {
	f.pmu.Lock()
	defer f.pmu.Unlock()
	f.ops = append(f.ops, op)
}
func (f *pttFake) pttOps() []string {
	f.pmu.Lock()
	defer f.pmu.Unlock()
	return slices.Clone(f.ops)
}
func (f *pttFake) SetTalkgroup(room string, on bool) error {
	f.rec("talkgroup|" + room + "|" + map[bool]string{true: "on", false: "off"}[on])
	return nil
}
func (f *pttFake) Talkgroups() []string { return f.groups }
func (f *pttFake) PTT(room string, on bool) error {
	f.rec("ptt|" + room + "|" + map[bool]string{true: "on", false: "off"}[on])
	return nil
}
func (f *pttFake) PTTReplay(room string) error { f.rec("replay|" + room); return nil }

// In a joined room the bar offers "Talkgroup"; marked, the big button talks
// while held (mouse or Space), says who talks and where this node waits in
// line, and Replay asks for the last transmission.
func TestHoldToTalk(t *testing.T) {
	test.NewTempApp(t)
	pf := &pttFake{fakeCore: fivePeers()}
	h := newHarnessFor(t, pf)
	ops := roomID("ops")
	h.emit(node.RoomUpdate{Room: node.Room{ID: ops, Name: "ops", Members: []string{bobID}}})
	h.u.roomsV.list.Select(0)
	bar := h.u.conv.talk
	if bar == nil || bar.obj.Visible() {
		t.Fatal("a room not joined shows the talk bar")
	}
	test.Tap(h.u.conv.header.join)
	h.waitFor("the join", func() bool { return h.u.rooms[ops].Joined && bar.obj.Visible() })
	if bar.hold.Visible() {
		t.Fatal("hold to talk shown before the room is a talkgroup")
	}
	test.Tap(bar.group)
	h.waitFor("the talkgroup mark", func() bool { return bar.hold.Visible() })

	bar.hold.MouseDown(&desktop.MouseEvent{})
	h.emit(node.PTTState{Room: ops, Speaker: selfID, On: true})
	if bar.status.Text != "You are talking — let go to stop" {
		t.Errorf("status while talking: %q", bar.status.Text)
	}
	bar.hold.MouseUp(&desktop.MouseEvent{})
	h.emit(node.PTTState{Room: ops, Speaker: selfID, Reason: "end"})
	if bar.status.Text != "Channel free" {
		t.Errorf("status after: %q", bar.status.Text)
	}

	// Bob talks; Space (the window's, the message box not focused) asks: busy.
	h.emit(node.PTTState{Room: ops, Speaker: bobID, Name: "Bob", On: true})
	h.win.Canvas().Unfocus()
	bar.keyDown(&fyne.KeyEvent{Name: fyne.KeySpace})
	h.waitFor("the press", func() bool { return len(pf.pttOps()) == 4 })
	h.emit(node.PTTBusy{Room: ops, Speaker: bobID, Position: 1})
	if bar.status.Text != "Channel busy: Bob is talking — you are number 1 in line" {
		t.Errorf("status when busy: %q", bar.status.Text)
	}
	bar.keyUp(&fyne.KeyEvent{Name: fyne.KeySpace})
	h.waitFor("the release", func() bool { return len(pf.pttOps()) == 5 })
	test.Tap(bar.replay)
	want := []string{"talkgroup|" + ops + "|on", "ptt|" + ops + "|on", "ptt|" + ops + "|off",
		"ptt|" + ops + "|on", "ptt|" + ops + "|off", "replay|" + ops}
	h.waitFor("the ptt calls", func() bool { return slices.Equal(pf.pttOps(), want) })
	if bar.status.Text != "Bob is talking" {
		t.Errorf("status after letting go in line: %q", bar.status.Text)
	}
}
