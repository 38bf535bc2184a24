package app

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"parley/node"
)

// callFake is the fake core with calls and sound devices. Like the node, Call
// reports "calling" on the event stream before it returns the call's ID.
type callFake struct {
	*fakeCore
	cmu       sync.Mutex
	callDelay time.Duration // every call command blocks this long (a stalled core)
	callErr   error         // what Call returns, if set
	gate      chan struct{} // when set, call commands also wait until it is closed
	ops       []string      // "call|id,id", "answer|call", "decline|call", "hangup|call", "mute|call|true"
	inside    int           // call commands in progress
	seq       int
	active    []node.CallInfo // what Calls reports
	devices   []node.AudioDevice
	devErr    error
	in, out   string
	setAudio  []string // "in|out"
}

func newCallFake(fc *fakeCore) *callFake {
	return &callFake{fakeCore: fc, in: "device", out: "device", devices: []node.AudioDevice{
		{Name: "Built-in Audio", Capture: true, Playback: true, Default: true},
		{Name: "USB Headset", Capture: true, Playback: true},
		{Name: "HDMI Monitor", Playback: true},
	}}
}

// do records a call command, runs then (if any) and blocks like a slow core.
func (f *callFake) do(op string, then func()) {
	f.cmu.Lock()
	f.ops = append(f.ops, op)
	f.inside++
	delay, gate := f.callDelay, f.gate
	f.cmu.Unlock()
	if then != nil {
		then()
	}
	time.Sleep(delay)
	if gate != nil {
		<-gate
	}
	f.cmu.Lock()
	f.inside--
	f.cmu.Unlock()
}

func (f *callFake) Call(peers ...string) (string, error) {
	f.cmu.Lock()
	err := f.callErr
	f.seq++
	id := "call-" + strconv.Itoa(f.seq)
	f.cmu.Unlock()
	f.do("call|"+strings.Join(peers, ","), func() {
		if err == nil {
			f.events <- node.CallState{Call: id, Peer: peers[0], State: callCalling, Outgoing: true}
		}
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

func (f *callFake) Answer(id string) error  { f.do("answer|"+id, nil); return nil }
func (f *callFake) Decline(id string) error { f.do("decline|"+id, nil); return nil }
func (f *callFake) Hangup(id string) error  { f.do("hangup|"+id, nil); return nil }
func (f *callFake) Mute(id string, on bool) error {
	f.do(fmt.Sprintf("mute|%s|%v", id, on), nil)
	return nil
}

// hold makes call commands wait until the returned function is called.
func (f *callFake) hold() (release func()) {
	f.cmu.Lock()
	defer f.cmu.Unlock()
	gate := make(chan struct{})
	f.gate = gate
	return func() {
		f.cmu.Lock()
		f.gate = nil
		f.cmu.Unlock()
		close(gate)
	}
}

func (f *callFake) Calls() []node.CallInfo {
	f.cmu.Lock()
	defer f.cmu.Unlock()
	return slices.Clone(f.active)
}

func (f *callFake) AudioDevices() ([]node.AudioDevice, error) {
	f.cmu.Lock()
	defer f.cmu.Unlock()
	if f.devErr != nil {
		return nil, f.devErr
	}
	return slices.Clone(f.devices), nil
}

func (f *callFake) Audio() (string, string) {
	f.cmu.Lock()
	defer f.cmu.Unlock()
	return f.in, f.out
}

func (f *callFake) SetAudio(in, out string) error {
	f.cmu.Lock()
	defer f.cmu.Unlock()
	f.setAudio = append(f.setAudio, in+"|"+out)
	f.in, f.out = in, out
	return nil
}

// calls is what the fake has been asked to do so far.
func (f *callFake) calls() []string {
	f.cmu.Lock()
	defer f.cmu.Unlock()
	return slices.Clone(f.ops)
}

func (f *callFake) pending() int {
	f.cmu.Lock()
	defer f.cmu.Unlock()
	return f.inside
}

// callHarness runs the UI against a fake core that has calls.
func callHarness(t *testing.T, fc *fakeCore) (*harness, *callFake) {
	t.Helper()
	test.NewTempApp(t)
	cf := newCallFake(fc)
	return newHarnessFor(t, cf), cf
}

// waitOps waits until the fake has been asked exactly want.
func (h *harness) waitOps(cf *callFake, want ...string) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("core calls %q", want), func() bool { return slices.Equal(cf.calls(), want) })
}

// tipButtons finds the shown tip buttons labelled text.
func (h *harness) tipButton(text string) *tipButton {
	var found *tipButton
	h.everything(func(o fyne.CanvasObject) {
		if b, ok := o.(*tipButton); ok && b.Text == text {
			found = b
		}
	})
	return found
}
