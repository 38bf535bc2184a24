package app

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"parley/node"
)

// fileFake is the fake core with file sharing. SendFile may block like a node
// hashing a big file.
type fileFake struct {
	*fakeCore
	fmu       sync.Mutex
	sendDelay time.Duration
	sendGate  chan struct{} // when set, SendFile also waits until it is closed
	sendErr   error
	ops       []string // "send|to|room|path,path", "accept|id", "decline|id", "cancel|id"
	inside    int      // SendFile calls in progress
	seq       int
	list      []node.Transfer // what Transfers reports
	auto      bool            // AutoAcceptVerified
}

func (f *fileFake) SendFile(to, room string, paths ...string) ([]string, error) {
	f.fmu.Lock()
	f.ops = append(f.ops, "send|"+to+"|"+room+"|"+strings.Join(paths, ","))
	f.inside++
	delay, gate, err := f.sendDelay, f.sendGate, f.sendErr
	f.fmu.Unlock()
	time.Sleep(delay)
	if gate != nil {
		<-gate
	}
	f.fmu.Lock()
	defer f.fmu.Unlock()
	f.inside--
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, p := range paths {
		f.seq++
		id := fmt.Sprintf("file-%d", f.seq)
		ids = append(ids, id)
		f.list = append(f.list, node.Transfer{ID: id, Out: true, Name: filepath.Base(p), Size: 1500, Peer: to, Room: room,
			State: node.TransferOffered, Path: p})
	}
	return ids, nil
}

func (f *fileFake) op(s string) error {
	f.fmu.Lock()
	defer f.fmu.Unlock()
	f.ops = append(f.ops, s)
	return nil
}

func (f *fileFake) AcceptFile(id string) error  { return f.op("accept|" + id) }
func (f *fileFake) DeclineFile(id string) error { return f.op("decline|" + id) }
func (f *fileFake) CancelFile(id string) error  { return f.op("cancel|" + id) }

func (f *fileFake) AutoAcceptVerified() bool {
	f.fmu.Lock()
	defer f.fmu.Unlock()
	return f.auto
}

func (f *fileFake) SetAutoAcceptVerified(on bool) error {
	f.fmu.Lock()
	f.auto = on
	f.fmu.Unlock()
	return f.op(fmt.Sprintf("auto|%v", on))
}

func (f *fileFake) Transfers() []node.Transfer {
	f.fmu.Lock()
	defer f.fmu.Unlock()
	return slices.Clone(f.list)
}

func (f *fileFake) fileOps() []string {
	f.fmu.Lock()
	defer f.fmu.Unlock()
	return slices.Clone(f.ops)
}

func (f *fileFake) sending() int {
	f.fmu.Lock()
	defer f.fmu.Unlock()
	return f.inside
}

// fileHarness runs the UI against a fake core that shares files; opened
// records the URLs the window asked the desktop to open.
func fileHarness(t *testing.T, fc *fakeCore) (*harness, *fileFake, *[]string) {
	t.Helper()
	test.NewTempApp(t)
	ff := &fileFake{fakeCore: fc}
	h := newHarnessFor(t, ff)
	var opened []string
	h.u.openURL = func(l *url.URL) error { opened = append(opened, l.String()); return nil }
	return h, ff, &opened
}

// waitFileOps waits until the fake has been asked exactly want.
func (h *harness) waitFileOps(ff *fileFake, want ...string) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("file commands %q", want), func() bool { return slices.Equal(ff.fileOps(), want) })
}

// card is the shown card of a transfer (fails the test when there is none).
func (h *harness) card(id string) *transferCard {
	h.t.Helper()
	c, ok := h.u.strip.cards[id]
	if !ok || !h.u.strip.scroll.Visible() {
		h.t.Fatalf("no card for %s (cards %v)", id, keys(h.u.strip.cards))
	}
	return c
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
