package chat

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/hlc"
	"parley/internal/testwait"
	"parley/store"
)

// waitTimeout bounds every wait in these tests; nothing sleeps for a fixed time.
const waitTimeout = 20 * time.Second

// frame is one chat frame in flight on the fake network.
type frame struct {
	from, to identity.PeerID
	typ      uint8
	payload  []byte
	routed   bool // went through the relay instead of a direct link
}

type pair [2]identity.PeerID

// fakeNet connects Services (and raw test peers) in memory. Every (from, to) pair is
// an ordered pipe served by its own goroutine, like a link's TCP stream: Send never
// blocks the caller, delivery happens later, in order.
type fakeNet struct {
	t  testing.TB
	mu sync.Mutex
	// peers maps a peer to its current endpoint (a running Service or a sink).
	peers  map[identity.PeerID]*endpoint
	links  map[pair]bool
	online map[identity.PeerID]bool
	pipes  map[pair]*pipe
	relay  identity.PeerID // reported as "via" on routed frames
	// onSend, when set, sees every frame synchronously at send time; returning
	// false drops it (a lost frame).
	onSend func(frame) bool
	wg     sync.WaitGroup
}

type endpoint struct {
	id   *identity.Identity
	svc  *Service    // nil while stopped, or for a raw peer
	sink func(frame) // raw peers
}

func newFakeNet(t testing.TB) *fakeNet {
	n := &fakeNet{t: t, peers: map[identity.PeerID]*endpoint{}, links: map[pair]bool{}, online: map[identity.PeerID]bool{}, pipes: map[pair]*pipe{}}
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() { n.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Error("fake network: deliveries still running at the end of the test")
		}
	})
	return n
}

// link makes a and b direct neighbours.
func (n *fakeNet) link(a, b identity.PeerID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.links[pair{a, b}], n.links[pair{b, a}] = true, true
}

func (n *fakeNet) setOnline(id identity.PeerID, on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.online[id] = on
}

func (n *fakeNet) setOnSend(f func(frame) bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.onSend = f
}

// view is one peer's chat.Net.
func (n *fakeNet) view(self identity.PeerID) Net { return netView{n, self} }

type netView struct {
	n    *fakeNet
	self identity.PeerID
}

func (v netView) Linked(id identity.PeerID) bool {
	v.n.mu.Lock()
	defer v.n.mu.Unlock()
	return v.n.links[pair{v.self, id}] && v.n.online[id]
}

func (v netView) Online(id identity.PeerID) bool {
	v.n.mu.Lock()
	defer v.n.mu.Unlock()
	return v.n.online[id]
}

func (v netView) PublicKey(id identity.PeerID) ed25519.PublicKey {
	v.n.mu.Lock()
	defer v.n.mu.Unlock()
	if ep := v.n.peers[id]; ep != nil && ep.id != nil {
		return ep.id.Public
	}
	return nil
}

func (v netView) Send(to identity.PeerID, typ uint8, payload []byte) error {
	if !v.Linked(to) {
		return errors.New("fake net: not linked")
	}
	v.n.send(frame{from: v.self, to: to, typ: typ, payload: bytes.Clone(payload)})
	return nil
}

func (v netView) SendTo(to identity.PeerID, typ uint8, payload []byte) (bool, error) {
	if v.Linked(to) {
		return true, v.Send(to, typ, payload)
	}
	if !v.Online(to) {
		return false, errors.New("fake net: no route")
	}
	v.n.send(frame{from: v.self, to: to, typ: typ, payload: bytes.Clone(payload), routed: true})
	return false, nil
}

func (n *fakeNet) send(f frame) {
	n.mu.Lock()
	hook := n.onSend
	n.mu.Unlock()
	if hook != nil && !hook(f) {
		return
	}
	n.mu.Lock()
	p := n.pipes[pair{f.from, f.to}]
	if p == nil {
		p = &pipe{n: n}
		n.pipes[pair{f.from, f.to}] = p
	}
	n.mu.Unlock()
	p.push(f)
}

// deliver hands f to whatever runs at its destination now.
func (n *fakeNet) deliver(f frame) {
	n.mu.Lock()
	ep := n.peers[f.to]
	var svc *Service
	var sink func(frame)
	if ep != nil {
		svc, sink = ep.svc, ep.sink
	}
	relay := n.relay
	n.mu.Unlock()
	switch {
	case svc != nil && f.routed:
		svc.HandleRouted(f.from, relay, f.payload)
	case svc != nil:
		svc.HandleDirect(f.typ)(f.from, f.payload)
	case sink != nil:
		sink(f)
	}
}

// pipe delivers one direction of one link in order.
type pipe struct {
	n    *fakeNet
	mu   sync.Mutex
	q    []frame
	busy bool
}

func (p *pipe) push(f frame) {
	p.mu.Lock()
	p.q = append(p.q, f)
	if p.busy {
		p.mu.Unlock()
		return
	}
	p.busy = true
	p.mu.Unlock()
	p.n.wg.Add(1)
	go p.drain()
}

func (p *pipe) drain() {
	defer p.n.wg.Done()
	for {
		p.mu.Lock()
		if len(p.q) == 0 {
			p.busy = false
			p.mu.Unlock()
			return
		}
		f := p.q[0]
		p.q = p.q[1:]
		p.mu.Unlock()
		p.n.deliver(f)
	}
}

// recorder collects events and lets tests wait for a condition on them.
type recorder struct {
	mu      sync.Mutex
	evs     []any
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) add(ev any) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) all() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]any(nil), r.evs...)
}

// wait blocks until cond holds for the events recorded so far.
func (r *recorder) wait(t testing.TB, what string, cond func([]any) bool) []any {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		evs := append([]any(nil), r.evs...)
		ch := r.changed
		r.mu.Unlock()
		if cond(evs) {
			return evs
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; %d events: %s", what, len(evs), summarize(evs))
		}
	}
}

func summarize(evs []any) string {
	if len(evs) > 20 {
		return fmt.Sprintf("%v … (%d more)", evs[:20], len(evs)-20)
	}
	return fmt.Sprint(evs)
}

// eventually polls a condition that has no event of its own (a counter, the outbox).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, waitTimeout, 2*time.Millisecond, what, cond)
}

// node is one Parley peer: a real store in its own data dir, an HLC clock, rooms and
// a running Service attached to the fake network.
type node struct {
	t     testing.TB
	net   *fakeNet
	id    *identity.Identity
	dir   string
	retry time.Duration
	stats *counters.Set
	ev    *recorder
	emit  func(Event) // replaces ev when set
	// custodian, when set before start, is the neighbour queued messages are
	// entrusted to.
	custodian *node
	// custodianID, when custodian is nil, names a custodian that is not a
	// node (a raw peer); custodyFailed hears CustodyFailed; custodyWait is
	// Config.CustodyAckWait.
	custodianID   identity.PeerID
	custodyFailed chan identity.PeerID
	custodyWait   time.Duration
	// blocked, when set before start, is Config.Blocked.
	blocked func(identity.PeerID) bool
	db      *store.DB
	clock   *hlc.Clock
	rooms   *Rooms
	svc     *Service
	cancel  context.CancelFunc
	done    chan struct{}
}

func testIdentity(t testing.TB, seed byte) *identity.Identity {
	t.Helper()
	id, err := identity.FromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// addNode creates, starts and puts online a peer; it is stopped at the end of the
// test. retry is its RetryEvery (0: an hour, so only explicit triggers retransmit).
func (n *fakeNet) addNode(seed byte, retry time.Duration) *node {
	n.t.Helper()
	return n.addNodeWith(seed, retry, nil)
}

// know makes ids peers the others have a record of (chat.Config.Known) without
// running a Service for them.
func (n *fakeNet) know(ids ...*identity.Identity) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, id := range ids {
		if n.peers[id.ID] == nil {
			n.peers[id.ID] = &endpoint{id: id}
		}
	}
}

// addNodeWith is addNode with a hook that adjusts the node before it starts.
func (n *fakeNet) addNodeWith(seed byte, retry time.Duration, before func(*node)) *node {
	n.t.Helper()
	if retry == 0 {
		retry = time.Hour
	}
	nd := &node{t: n.t, net: n, id: testIdentity(n.t, seed), dir: n.t.TempDir(), retry: retry, stats: &counters.Set{}, ev: newRecorder()}
	n.mu.Lock()
	n.peers[nd.id.ID] = &endpoint{id: nd.id}
	n.online[nd.id.ID] = true
	n.mu.Unlock()
	if before != nil {
		before(nd)
	}
	nd.start()
	n.t.Cleanup(nd.stop)
	return nd
}

// start opens the store and runs a new Service, as a process start would.
func (nd *node) start() {
	nd.t.Helper()
	nd.startPaused()()
}

// startPaused opens the store and makes a new Service that already takes frames;
// its committer starts when the returned function is called.
func (nd *node) startPaused() (run func()) {
	t := nd.t
	t.Helper()
	db, err := store.Open(nd.dir)
	if err != nil {
		t.Fatal(err)
	}
	clock := hlc.NewClock(nil, 0)
	last, err := db.LastHLC()
	if err != nil {
		t.Fatal(err)
	}
	clock.Observe(hlc.Timestamp(last))
	rooms, err := NewRooms(nd.id.ID, db, clock)
	if err != nil {
		t.Fatal(err)
	}
	emit := nd.emit
	if emit == nil {
		emit = func(ev Event) { nd.ev.add(ev) }
	}
	svc, err := New(Config{
		Identity: nd.id, Net: nd.net.view(nd.id.ID), DB: db, Clock: clock, Emit: emit,
		Log: slog.New(slog.DiscardHandler), Stats: nd.stats, Rooms: rooms, RetryEvery: nd.retry,
		Blocked: nd.blocked,
	})
	if nd.custodian != nil {
		nd.custodianID = nd.custodian.id.ID
	}
	if !nd.custodianID.IsZero() {
		svc.cfg.Custodians = fixedCustodian{nd.custodianID, nd.custodyFailed}
	}
	if nd.custodyWait != 0 {
		svc.cfg.CustodyAckWait = nd.custodyWait
	}
	if err != nil {
		t.Fatal(err)
	}
	nd.db, nd.clock, nd.rooms, nd.svc = db, clock, rooms, svc
	ctx, cancel := context.WithCancel(context.Background())
	nd.cancel, nd.done = cancel, make(chan struct{})
	nd.net.mu.Lock()
	nd.net.peers[nd.id.ID].svc = svc
	nd.net.mu.Unlock()
	return func() {
		go func() {
			defer close(nd.done)
			svc.Run(ctx)
		}()
	}
}

type fixedCustodian struct {
	id     identity.PeerID
	failed chan identity.PeerID
}

func (f fixedCustodian) Custodian(skip identity.PeerID) (identity.PeerID, bool) {
	return f.id, f.id != skip
}

func (f fixedCustodian) CustodyFailed(holder identity.PeerID) {
	if f.failed != nil {
		f.failed <- holder
	}
}

// stop ends the Service and closes the store, as a process exit would.
func (nd *node) stop() {
	if nd.cancel == nil {
		return
	}
	nd.net.mu.Lock()
	nd.net.peers[nd.id.ID].svc = nil
	nd.net.mu.Unlock()
	nd.cancel()
	<-nd.done
	nd.cancel = nil
	if err := nd.db.Close(); err != nil {
		nd.t.Error(err)
	}
}

func (nd *node) restart() {
	nd.t.Helper()
	nd.stop()
	nd.start()
}

// rawPeer is a peer without a Service: the test writes its frames by hand and the
// frames it receives are recorded as events.
type rawPeer struct {
	id *identity.Identity
	ev *recorder
}

func (n *fakeNet) addRaw(seed byte) *rawPeer {
	p := &rawPeer{id: testIdentity(n.t, seed), ev: newRecorder()}
	n.mu.Lock()
	n.peers[p.id.ID] = &endpoint{id: p.id, sink: func(f frame) { p.ev.add(f) }}
	n.online[p.id.ID] = true
	n.mu.Unlock()
	return p
}

// ackedIDs lists the IDs of every ack frame among a raw peer's events.
func ackedIDs(t testing.TB, evs []any) []string {
	var out []string
	for _, ev := range evs {
		if f, ok := ev.(frame); ok && f.typ == TypeAck {
			ids, err := DecodeIDs(f.payload)
			if err != nil {
				t.Errorf("ack frame does not decode: %v", err)
			}
			out = append(out, ids...)
		}
	}
	return out
}

// Event helpers.

func receivedOf(evs []any) []store.Message {
	var out []store.Message
	for _, ev := range evs {
		if r, ok := ev.(Received); ok {
			out = append(out, r.Message)
		}
	}
	return out
}

func countReceived(evs []any, id string) int {
	n := 0
	for _, m := range receivedOf(evs) {
		if m.ID == id {
			n++
		}
	}
	return n
}

func countDelivered(evs []any, id string, to identity.PeerID) int {
	n := 0
	for _, ev := range evs {
		if d, ok := ev.(Delivered); ok && d.ID == id && d.To == to.String() {
			n++
		}
	}
	return n
}

func (nd *node) waitReceived(id string) store.Message {
	nd.t.Helper()
	evs := nd.ev.wait(nd.t, "Received "+id, func(evs []any) bool { return countReceived(evs, id) > 0 })
	for _, m := range receivedOf(evs) {
		if m.ID == id {
			return m
		}
	}
	panic("unreachable")
}

func (nd *node) waitDelivered(id string, to identity.PeerID) {
	nd.t.Helper()
	nd.ev.wait(nd.t, "Delivered "+id+" to "+to.Short(), func(evs []any) bool { return countDelivered(evs, id, to) > 0 })
}

func (nd *node) send(to *node, text string) store.Message {
	nd.t.Helper()
	m, err := nd.svc.Send(to.id.ID, text)
	if err != nil {
		nd.t.Fatal(err)
	}
	return m
}

func (nd *node) history(conv string) []store.Message {
	nd.t.Helper()
	var all []store.Message
	for cursor := store.Cursor(""); ; {
		p, err := nd.db.History(conv, cursor, 1000)
		if err != nil {
			nd.t.Fatal(err)
		}
		all = append(p.Messages, all...)
		if p.Next == "" {
			return all
		}
		cursor = p.Next
	}
}

func (nd *node) stored(id string) store.Message {
	nd.t.Helper()
	m, ok, err := nd.db.GetMessage(id)
	if err != nil || !ok {
		nd.t.Fatalf("message %s not stored on %s: %v", id, nd.id.ID.Short(), err)
	}
	return m
}

func (nd *node) outbox(peer string) []store.OutboxEntry {
	nd.t.Helper()
	es, err := nd.db.Outbox(peer)
	if err != nil {
		nd.t.Fatal(err)
	}
	return es
}
