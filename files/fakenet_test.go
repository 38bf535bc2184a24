package files

import (
	"context"
	"crypto/ed25519"
	"errors"
	"sync"
	"testing"
	"time"

	"parley/identity"
	"parley/internal/testwait"
)

// fakeFrame is one frame on the fake network.
type fakeFrame struct {
	from, to identity.PeerID
	typ      uint8
	payload  []byte
	routed   bool
	bulk     bool
}

type pairKey [2]identity.PeerID

// fakeNet connects Services in memory. Each directed pair is an ordered pipe with
// its own goroutine, like a link's TCP stream. Sends never block; a pipe may be
// limited to a number of bulk frames per step of the fake clock (a slow source),
// and a hook may drop or rewrite frames (loss, a malicious source).
type fakeNet struct {
	t      testing.TB
	mu     sync.Mutex
	svcs   map[identity.PeerID]*Service
	keys   map[identity.PeerID]ed25519.PublicKey
	links  map[pairKey]bool
	online map[identity.PeerID]bool
	pipes  map[pairKey]*fakePipe
	// budget limits bulk frames per step on a pipe (absent: unlimited).
	budget map[pairKey]int
	limit  map[pairKey]int
	// hook sees every frame at send time; false drops it. It may edit the payload.
	hook func(*fakeFrame) bool
	// seen records every frame's (type, routed) for assertions.
	seen []fakeFrame
	wg   sync.WaitGroup
}

type fakePipe struct {
	q       []fakeFrame
	running bool
	blocked bool // waiting for bulk budget
}

func newFakeNet(t testing.TB) *fakeNet {
	return &fakeNet{t: t, svcs: map[identity.PeerID]*Service{}, keys: map[identity.PeerID]ed25519.PublicKey{},
		links: map[pairKey]bool{}, online: map[identity.PeerID]bool{}, pipes: map[pairKey]*fakePipe{},
		budget: map[pairKey]int{}, limit: map[pairKey]int{}}
}

func (n *fakeNet) attach(id *identity.Identity, s *Service) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.svcs[id.ID], n.keys[id.ID], n.online[id.ID] = s, id.Public, true
}

func (n *fakeNet) link(a, b identity.PeerID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.links[pairKey{a, b}], n.links[pairKey{b, a}] = true, true
}

func (n *fakeNet) setOnline(id identity.PeerID, on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.online[id] = on
}

// limitBulk lets at most k bulk frames per step from a to b.
func (n *fakeNet) limitBulk(a, b identity.PeerID, k int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.limit[pairKey{a, b}], n.budget[pairKey{a, b}] = k, k
}

// refill restores every pipe's budget (one step of the fake clock passed).
func (n *fakeNet) refill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, v := range n.limit {
		n.budget[k] = v
		if p := n.pipes[k]; p != nil && p.blocked && len(p.q) > 0 {
			p.blocked = false
			n.startLocked(k, p)
		}
	}
}

// port is one node's view of the fake network (its Net).
type port struct {
	n    *fakeNet
	self identity.PeerID
}

func (n *fakeNet) port(id identity.PeerID) Net { return port{n, id} }

func (p port) Linked(id identity.PeerID) bool {
	p.n.mu.Lock()
	defer p.n.mu.Unlock()
	return p.n.links[pairKey{p.self, id}] && p.n.online[id] && p.n.online[p.self]
}

func (p port) Online(id identity.PeerID) bool {
	p.n.mu.Lock()
	defer p.n.mu.Unlock()
	return p.n.online[id] && p.n.online[p.self]
}

func (p port) PublicKey(id identity.PeerID) ed25519.PublicKey {
	p.n.mu.Lock()
	defer p.n.mu.Unlock()
	return p.n.keys[id]
}

var errNoLink = errors.New("fake: no link")

func (p port) Send(to identity.PeerID, typ uint8, payload []byte) error {
	if !p.Linked(to) {
		return errNoLink
	}
	p.n.send(fakeFrame{from: p.self, to: to, typ: typ, payload: payload})
	return nil
}

func (p port) SendTo(to identity.PeerID, typ uint8, payload []byte) (bool, error) {
	if !p.Online(to) {
		return false, errNoLink
	}
	direct := p.Linked(to)
	p.n.send(fakeFrame{from: p.self, to: to, typ: typ, payload: payload, routed: !direct})
	return direct, nil
}

func (p port) SendBulkDirect(ctx context.Context, to identity.PeerID, typ uint8, payload []byte) error {
	if !p.Linked(to) {
		return errNoLink
	}
	p.n.send(fakeFrame{from: p.self, to: to, typ: typ, payload: payload, bulk: true})
	return nil
}

func (p port) SendBulk(ctx context.Context, to identity.PeerID, typ uint8, payload []byte) (bool, error) {
	if !p.Online(to) {
		return false, errNoLink
	}
	direct := p.Linked(to)
	p.n.send(fakeFrame{from: p.self, to: to, typ: typ, payload: payload, routed: !direct, bulk: true})
	return direct, nil
}

func (n *fakeNet) send(f fakeFrame) {
	f.payload = append([]byte(nil), f.payload...) // the overlay copies too
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.hook != nil && !n.hook(&f) {
		return
	}
	rec := fakeFrame{from: f.from, to: f.to, typ: f.typ, routed: f.routed, bulk: f.bulk}
	if !f.bulk {
		rec.payload = f.payload // control frames are small; chunks are not kept
	}
	n.seen = append(n.seen, rec)
	k := pairKey{f.from, f.to}
	p := n.pipes[k]
	if p == nil {
		p = &fakePipe{}
		n.pipes[k] = p
	}
	p.q = append(p.q, f)
	if !p.running && !p.blocked {
		n.startLocked(k, p)
	}
}

func (n *fakeNet) startLocked(k pairKey, p *fakePipe) {
	p.running = true
	n.wg.Add(1)
	go n.deliver(k, p)
}

// deliver drains a pipe in order until it is empty or out of bulk budget.
func (n *fakeNet) deliver(k pairKey, p *fakePipe) {
	defer n.wg.Done()
	for {
		n.mu.Lock()
		if len(p.q) == 0 {
			p.running = false
			n.mu.Unlock()
			return
		}
		f := p.q[0]
		if _, limited := n.limit[k]; limited && f.bulk {
			if n.budget[k] <= 0 {
				p.running, p.blocked = false, true
				n.mu.Unlock()
				return
			}
			n.budget[k]--
		}
		p.q = p.q[1:]
		svc, up := n.svcs[f.to], n.online[f.to] && n.online[f.from]
		n.mu.Unlock()
		if svc == nil || !up {
			continue // lost with the peer
		}
		if f.routed {
			svc.HandleRouted(f.typ)(f.from, f.from, f.payload)
		} else {
			svc.HandleDirect(f.typ)(f.from, f.payload)
		}
	}
}

// quiet reports whether nothing can move without a clock step.
func (n *fakeNet) quiet() bool {
	n.mu.Lock()
	for _, p := range n.pipes {
		if p.running || len(p.q) > 0 && !p.blocked {
			n.mu.Unlock()
			return false
		}
	}
	svcs := make([]*Service, 0, len(n.svcs))
	for _, s := range n.svcs {
		svcs = append(svcs, s)
	}
	n.mu.Unlock()
	for _, s := range svcs {
		if s.busy() {
			return false
		}
	}
	return true
}

// settle waits until the network is quiet (a bounded wait on real goroutines,
// not a guess at how long something takes).
func (n *fakeNet) settle() {
	n.t.Helper()
	testwait.Until(n.t, 20*time.Second, 50*time.Microsecond, "the fake network to become quiet", n.quiet)
}

// frames returns what was sent so far.
func (n *fakeNet) frames() []fakeFrame {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]fakeFrame(nil), n.seen...)
}

// fakeClock is a manual clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeRooms is a static room membership.
type fakeRooms struct {
	mu      sync.Mutex
	members map[string][]identity.PeerID
	self    identity.PeerID
}

func (r *fakeRooms) Joined(room string) bool {
	for _, m := range r.Members(room) {
		if m == r.self {
			return true
		}
	}
	return false
}

func (r *fakeRooms) Members(room string) []identity.PeerID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]identity.PeerID(nil), r.members[room]...)
}

// fakeRanker ranks by a fixed preference.
type fakeRanker struct{ pref []identity.PeerID }

func (f fakeRanker) Rank(c []identity.PeerID) []identity.PeerID {
	var out []identity.PeerID
	for _, p := range f.pref {
		for _, q := range c {
			if p == q {
				out = append(out, p)
			}
		}
	}
	return out
}
