package files

import (
	"bytes"
	"crypto/sha256"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"parley/identity"
	"parley/internal/counters"
	"parley/store"
)

// harness is a few Services on a fake network with one fake clock; tests move
// time in steps and let the network settle in between.
type harness struct {
	t     testing.TB
	net   *fakeNet
	clock *fakeClock
	rooms map[string][]identity.PeerID
	peers []*peer
}

type peer struct {
	h      *harness
	name   string
	id     *identity.Identity
	svc    *Service
	db     *store.DB
	dir    string // data dir (store)
	dl     string // downloads folder
	stats  *counters.Set
	ranker Ranker
	// blocked are the peers this one's user blocked (Config.Refuse).
	blocked map[identity.PeerID]bool
	mu      sync.Mutex
	events  []any
}

func newHarness(t testing.TB) *harness {
	return &harness{t: t, net: newFakeNet(t), clock: &fakeClock{t: time.Unix(1_800_000_000, 0)}, rooms: map[string][]identity.PeerID{}}
}

func (h *harness) add(name string) *peer {
	h.t.Helper()
	id, err := identity.Generate()
	if err != nil {
		h.t.Fatal(err)
	}
	dir := h.t.TempDir()
	p := &peer{h: h, name: name, id: id, dir: dir, dl: filepath.Join(dir, "downloads")}
	p.start()
	h.peers = append(h.peers, p)
	return p
}

// start opens the peer's store and a fresh Service on it (again after crash).
func (p *peer) start() {
	t := p.h.t
	t.Helper()
	db, err := store.Open(p.dir)
	if err != nil {
		t.Fatal(err)
	}
	p.db = db
	t.Cleanup(func() { db.Close() })
	p.stats = &counters.Set{}
	svc, err := New(Config{
		Identity: p.id, Net: p.h.net.port(p.id.ID), Store: db, Rooms: &harnessRooms{p.h, p.id.ID},
		Ranker: p.ranker, Downloads: p.dl, Stats: p.stats, Now: p.h.clock.Now,
		Refuse: func(id identity.PeerID) bool { return p.blocked[id] },
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Emit:   func(ev Event) { p.mu.Lock(); p.events = append(p.events, ev); p.mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	p.svc = svc
	// Registered after the store's, so it runs first: partial downloads are
	// closed before the temp folder goes (Windows cannot remove an open file).
	t.Cleanup(svc.closeAll)
	p.h.net.attach(p.id, svc)
}

// crash drops the Service as kill -9 would: no final save; what the periodic
// saves wrote is all the next start finds.
func (p *peer) crash() {
	p.svc.closeAll()
	p.db.Close()
	p.h.net.mu.Lock()
	delete(p.h.net.svcs, p.id.ID)
	p.h.net.mu.Unlock()
}

type harnessRooms struct {
	h    *harness
	self identity.PeerID
}

func (r *harnessRooms) Joined(room string) bool {
	for _, m := range r.h.rooms[room] {
		if m == r.self {
			return true
		}
	}
	return false
}

func (r *harnessRooms) Members(room string) []identity.PeerID {
	return append([]identity.PeerID(nil), r.h.rooms[room]...)
}

// mesh links every pair of peers directly.
func (h *harness) mesh() {
	for i, a := range h.peers {
		for _, b := range h.peers[i+1:] {
			h.net.link(a.id.ID, b.id.ID)
		}
	}
}

func (h *harness) step() {
	h.clock.advance(250 * time.Millisecond)
	h.net.refill()
	h.net.settle()
	for _, p := range h.peers {
		if p.svc != nil {
			p.svc.Tick()
		}
	}
	h.net.settle()
}

// until steps the clock until cond holds, failing after max steps.
// offer has from offer the file at src to to, and waits until to has the offer.
func (h *harness) offer(from, to *peer, src string) []string {
	h.t.Helper()
	ids, err := from.svc.SendFile(to.id.ID, "", src)
	if err != nil {
		h.t.Fatalf("send %s: %v", src, err)
	}
	h.until("offer", 10, func() bool { return hasOffer(to, ids[0]) })
	return ids
}

func (h *harness) until(what string, max int, cond func() bool) {
	h.t.Helper()
	h.net.settle()
	for i := 0; !cond(); i++ {
		if i == max {
			h.t.Fatalf("after %d steps: still waiting for %s", max, what)
		}
		h.step()
	}
}

func (p *peer) all() []any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]any(nil), p.events...)
}

func findEvent[T any](p *peer, match func(T) bool) (T, bool) {
	for _, ev := range p.all() {
		if e, ok := ev.(T); ok && match(e) {
			return e, true
		}
	}
	var zero T
	return zero, false
}

func (p *peer) offerFor(name string) (Offered, bool) {
	return findEvent(p, func(e Offered) bool { return e.Name == name })
}

func (p *peer) done(id string) (Done, bool) {
	return findEvent(p, func(e Done) bool { return e.ID == id && !e.Out })
}

// writeRandom writes n seeded random bytes to dir/name.
func writeRandom(t *testing.T, dir, name string, n int, seed uint64) string {
	t.Helper()
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Fatalf("%s (%d bytes, sha %x) differs from %s (%d bytes, sha %x)", b, len(y), sha256.Sum256(y), a, len(x), sha256.Sum256(x))
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
