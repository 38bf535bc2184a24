package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"parley/assets"
	"parley/identity"
	"parley/node"
)

var selfID = mkID("self")

// mkID makes a well-formed peer ID.
func mkID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return identity.PeerID(sum[:16]).String()
}

// fakeCore is an in-memory Core. Its methods may block (sendDelay) like a stalled node.
type fakeCore struct {
	mu        sync.Mutex
	self      node.Ready
	peers     []node.PeerView
	rooms     map[string]node.Room
	history   map[node.Conv][]node.Message // conversation → messages, oldest first
	events    chan node.Event
	sendDelay time.Duration
	sendGate  chan struct{} // when set, Send also waits until it is closed
	sendErr   error         // Send and Say fail with it while set
	seq       int

	sent         []string // "to|text" or "#room|text"
	joined, left []string
	presence     []string // "status|text"
	marked       []string // "peer|room|upTo"
	cursors      []string // the before cursor of every History call for an open conversation
	pending      int      // Send calls in progress
	links        []node.Link
	trust        []string // "verify|peer|true", "block|peer|false"

	// Network interfaces (netsettings_test.go): the machine's, the choice,
	// whether --iface made it, every SetInterfaces call and its error.
	netIfaces   []node.NetInterface
	ifaceChoice []string
	ifaceByFlag bool
	ifaceSets   [][]string
	ifaceErr    error
}

func newFakeCore(peers ...node.PeerView) *fakeCore {
	return &fakeCore{
		self:    node.Ready{ID: selfID, Name: "Me", Fingerprint: "11111 22222 33333 44444 55555 66666", Addrs: []string{"192.168.1.10"}, Port: 48556},
		peers:   peers,
		rooms:   map[string]node.Room{},
		history: map[node.Conv][]node.Message{},
		events:  make(chan node.Event, 64),
		netIfaces: []node.NetInterface{{Name: "eth0", Up: true, Addrs: []string{"192.168.1.10"}},
			{Name: "wlan0", Up: true, Addrs: []string{"10.0.0.7"}}, {Name: "eth1"}},
	}
}

func peer(id, name, presence, status string) node.PeerView {
	online := presence != "offline"
	return node.PeerView{ID: id, Name: name, Presence: presence, Status: status, Online: online, Direct: online,
		Fingerprint: fingerprintOf(id), Addrs: []string{"192.168.1.20:48556"}}
}

func fingerprintOf(id string) string {
	sum := sha256.Sum256([]byte(id))
	var groups []string
	for i := 0; i < 6; i++ {
		groups = append(groups, fmt.Sprintf("%05d", (int(sum[2*i])<<8|int(sum[2*i+1]))%100000))
	}
	return strings.Join(groups, " ")
}

// addHistory stores messages for a conversation (oldest first).
func (f *fakeCore) addHistory(key node.Conv, ms ...node.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.history[key] = append(f.history[key], ms...)
}

func (f *fakeCore) Events() <-chan node.Event { return f.events }
func (f *fakeCore) Self() node.Ready {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.self
}

func (f *fakeCore) Roster() ([]node.PeerView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]node.PeerView(nil), f.peers...), nil
}

func (f *fakeCore) SetPresence(status, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.presence = append(f.presence, status+"|"+text)
	return nil
}

func (f *fakeCore) SetName(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.self.Name = name
	return nil
}

func (f *fakeCore) Send(to, text string) (string, error) {
	f.mu.Lock()
	f.pending++
	delay, gate := f.sendDelay, f.sendGate
	f.mu.Unlock()
	time.Sleep(delay)
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending--
	if f.sendErr != nil {
		return "", f.sendErr
	}
	f.seq++
	id := fmt.Sprintf("sent-%03d", f.seq)
	f.sent = append(f.sent, to+"|"+text)
	f.history[node.DirectConv(to)] = append(f.history[node.DirectConv(to)],
		node.Message{ID: id, From: selfID, To: to, Text: text, Time: time.Now(), State: node.StateSent})
	return id, nil
}

func (f *fakeCore) AddPeer(ctx context.Context, addr string) (string, error) {
	return "", fmt.Errorf("no network in tests")
}

func (f *fakeCore) Rooms() []node.Room {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []node.Room
	for _, r := range f.rooms {
		out = append(out, r)
	}
	return out
}

// errUnknownRoom is what the node answers for a room it does not know.
var errUnknownRoom = errors.New("unknown room")

func roomID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:16])
}

func (f *fakeCore) Join(room string) (node.Room, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joined = append(f.joined, room)
	info, ok := f.rooms[room]
	if !ok {
		for _, r := range f.rooms {
			if r.Name == room {
				info, ok = r, true
			}
		}
	}
	if !ok && len(room) == 32 {
		info = node.Room{ID: room, Name: "room " + room[:4]} // known from an event only
	} else if !ok {
		info = node.Room{ID: roomID(room), Name: room}
	}
	info.Joined = true
	info.Members = append(info.Members, selfID)
	f.rooms[info.ID] = info
	return info, nil
}

func (f *fakeCore) Leave(room string) (node.Room, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.left = append(f.left, room)
	info, ok := f.rooms[room]
	if !ok {
		return info, errUnknownRoom
	}
	info.Joined = false
	var members []string
	for _, m := range info.Members {
		if m != selfID {
			members = append(members, m)
		}
	}
	info.Members = members
	f.rooms[room] = info
	return info, nil
}

func (f *fakeCore) SetTopic(room, topic string) (node.Room, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	info := f.rooms[room]
	info.Topic = topic
	f.rooms[room] = info
	return info, nil
}

func (f *fakeCore) Say(room, text string) (node.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return node.Message{}, f.sendErr
	}
	f.seq++
	f.sent = append(f.sent, "#"+room+"|"+text)
	m := node.Message{ID: fmt.Sprintf("say-%03d", f.seq), Conv: node.RoomConv(room), From: selfID, Room: room,
		Text: text, Time: time.Now(), State: node.StateSent}
	f.history[m.Conv] = append(f.history[m.Conv], m)
	return m, nil
}

// History pages like the store: the newest limit messages before the cursor (an
// index here), oldest first, and the cursor of the page before.
func (f *fakeCore) History(peer, room, before string, limit int) (node.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cursors = append(f.cursors, before)
	ms := f.history[node.ConvOf(peer, room)]
	end := len(ms)
	if before != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(before, "c"))
		if err != nil {
			return node.Page{}, err
		}
		end = n
	}
	start := max(0, end-limit)
	p := node.Page{Messages: append([]node.Message(nil), ms[start:end]...)}
	if start > 0 {
		p.Next = "c" + strconv.Itoa(start)
	}
	return p, nil
}

func (f *fakeCore) MarkRead(peer, room, upTo string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.marked = append(f.marked, peer+"|"+room+"|"+upTo)
	return nil, nil
}

func (f *fakeCore) Links() []node.Link {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.links
}

// SetVerified and Block change the peer's entry, like the node's roster.
func (f *fakeCore) SetVerified(id string, on bool) (node.PeerView, error) {
	return f.setTrust(fmt.Sprintf("verify|%s|%v", id, on), id, func(p *node.PeerView) { p.Verified = on })
}

func (f *fakeCore) Block(id string, on bool) (node.PeerView, error) {
	return f.setTrust(fmt.Sprintf("block|%s|%v", id, on), id, func(p *node.PeerView) { p.Blocked = on })
}

func (f *fakeCore) setTrust(op, id string, change func(*node.PeerView)) (node.PeerView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.trust = append(f.trust, op)
	for i := range f.peers {
		if f.peers[i].ID == id {
			change(&f.peers[i])
			return f.peers[i], nil
		}
	}
	return node.PeerView{}, fmt.Errorf("unknown peer %s", id)
}

// trustOps are the SetVerified and Block calls so far.
func (f *fakeCore) trustOps() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.trust...)
}

type snapshotter interface{ fake() *fakeCore }

func (f *fakeCore) fake() *fakeCore { return f }

// snapshot reads the fake's records under its lock.
func (f *fakeCore) snapshot(fn func(f *fakeCore)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// harness runs the UI against a fake core. The UI goroutine is the test goroutine:
// ui.do queues functions that pump and waitFor run, as fyne.Do does in the app.
type harness struct {
	t     testing.TB
	fc    *fakeCore
	u     *ui
	win   fyne.Window
	queue chan func()
	notes []string
}

func newHarness(t testing.TB, fc *fakeCore) *harness {
	t.Helper()
	test.NewTempApp(t)
	return newHarnessFor(t, fc)
}

// newHarnessFor runs the UI against core, which wraps fc.
func newHarnessFor(t testing.TB, core interface {
	Core
	snapshotter
}) *harness {
	t.Helper()
	fc := core.fake()
	h := &harness{t: t, fc: fc, queue: make(chan func(), 4096)}
	h.win = fyne.CurrentApp().NewWindow("Parley")
	h.u = newUI(core, Options{DataDir: "/home/me/.config/parley", Discovery: "both", Version: "test"}, h.win,
		func(f func()) { h.queue <- f })
	h.u.notify = func(title, body string) { h.notes = append(h.notes, title+": "+body) }
	h.u.tray = newTrayMenu(h.u, nil, newTrayIcons(assets.Icon))
	h.win.SetContent(h.u.build())
	h.win.Resize(fyne.NewSize(1000, 650))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	t.Cleanup(h.win.Close)
	h.u.start(ctx)
	h.waitFor("the first roster", func() bool { return h.u.loaded })
	return h
}

// pump runs the queued UI functions.
func (h *harness) pump() {
	for {
		select {
		case f := <-h.queue:
			f()
		default:
			return
		}
	}
}

// waitFor runs UI functions until cond holds (5 s at most).
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.pump()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		select {
		case f := <-h.queue:
			f()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// emit sends a core event and waits until the UI has handled it.
func (h *harness) emit(ev node.Event) {
	h.t.Helper()
	done := false
	h.fc.events <- ev
	h.fc.events <- marker{&done}
	h.waitFor("event "+ev.EventName(), func() bool { return done })
}

// marker is a fake event whose handling shows that the events before it were handled.
type marker struct{ done *bool }

func (m marker) EventName() string { return "marker" }
func (m marker) apply(*ui)         { *m.done = true }
