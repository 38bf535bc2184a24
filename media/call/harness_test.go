package call

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v2"
	"github.com/pion/transport/v2/vnet"

	"parley/identity"
	"parley/media/audio"
)

const waitLimit = 15 * time.Second

// recorder collects a manager's events.
type recorder struct {
	mu     sync.Mutex
	events []any
	notify chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{})} }

func (r *recorder) add(ev any) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	close(r.notify)
	r.notify = make(chan struct{})
	r.mu.Unlock()
}

// wait returns the first event matching f, past or future.
func (r *recorder) wait(t *testing.T, what string, f func(any) bool) any {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for _, ev := range r.events {
			if f(ev) {
				r.mu.Unlock()
				return ev
			}
		}
		ch := r.notify
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			// What did happen says why: the last few events seen.
			r.mu.Lock()
			last := r.events[max(0, len(r.events)-8):]
			r.mu.Unlock()
			var seen strings.Builder
			for _, ev := range last {
				fmt.Fprintf(&seen, "\n\t%T %+v", ev, ev)
			}
			t.Fatalf("timed out waiting for %s; last events:%s", what, seen.String())
		}
	}
}

func (r *recorder) waitState(t *testing.T, st State) StateChanged {
	t.Helper()
	return r.wait(t, string(st), func(ev any) bool {
		s, ok := ev.(StateChanged)
		return ok && s.State == st
	}).(StateChanged)
}

// toneSource is a paced sine source that remembers what it produced.
type toneSource struct {
	hz     float64
	n      int
	tick   *time.Ticker
	closed chan struct{}
	once   sync.Once
	mu     sync.Mutex
	sent   []int16
}

func newToneSource(hz float64) *toneSource {
	return &toneSource{hz: hz, tick: time.NewTicker(audio.FrameDuration), closed: make(chan struct{})}
}

func (s *toneSource) ReadFrame(dst []int16) error {
	select {
	case <-s.closed:
		return io.EOF
	case <-s.tick.C:
	}
	for i := range dst {
		dst[i] = int16(8000 * math.Sin(2*math.Pi*s.hz*float64(s.n)/audio.SampleRate))
		s.n++
	}
	s.mu.Lock()
	s.sent = append(s.sent, dst...)
	s.mu.Unlock()
	return nil
}

func (s *toneSource) Close() error {
	s.once.Do(func() { s.tick.Stop(); close(s.closed) })
	return nil
}

func (s *toneSource) samples() []int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int16(nil), s.sent...)
}

// memSink keeps what is played.
type memSink struct {
	mu     sync.Mutex
	frames [][]int16
}

func (s *memSink) WriteFrame(f []int16) error {
	s.mu.Lock()
	s.frames = append(s.frames, append([]int16(nil), f...))
	s.mu.Unlock()
	return nil
}
func (s *memSink) Close() error { return nil }

func (s *memSink) snapshot() [][]int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]int16(nil), s.frames...)
}

func rms(f []int16) float64 {
	var sum float64
	for _, v := range f {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(1, len(f))))
}

// party is one manager under test with its audio ends.
type party struct {
	id   identity.PeerID
	m    *Manager
	ev   *recorder
	src  *toneSource
	out  *memSink
	in   chan func() // ordered delivery of signalling to this party
	stop chan struct{}
}

// bus delivers signalling between parties in order, through the real codec.
type bus struct {
	mu      sync.Mutex
	parties map[identity.PeerID]*party
	// drop, when set, swallows messages (a peer that vanished).
	drop func(from, to identity.PeerID, m *Message) bool
}

func (b *bus) send(from, to identity.PeerID, m *Message) error {
	raw, err := m.Encode()
	if err != nil {
		return err
	}
	b.mu.Lock()
	p, drop := b.parties[to], b.drop
	b.mu.Unlock()
	if p == nil {
		return fmt.Errorf("no party %s", to.Short())
	}
	if drop != nil && drop(from, to, m) {
		return nil
	}
	dec, err := Decode(raw)
	if err != nil {
		return err
	}
	select {
	case p.in <- func() { p.m.Handle(from, dec) }:
	case <-p.stop:
	}
	return nil
}

// vnetLab is a pion virtual network: one router, one Net per party.
type vnetLab struct {
	router *vnet.Router
	next   int
}

func newVnetLab(t *testing.T, delay, jitter time.Duration, keep func() bool) *vnetLab {
	t.Helper()
	r, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.99.0.0/24", MinDelay: delay, MaxJitter: jitter, LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	if keep != nil {
		r.AddChunkFilter(func(vnet.Chunk) bool { return keep() })
	}
	return &vnetLab{router: r, next: 10}
}

func (l *vnetLab) net(t *testing.T) transport.Net {
	t.Helper()
	l.next++
	n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{fmt.Sprintf("10.99.0.%d", l.next)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.router.AddNet(n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (l *vnetLab) start(t *testing.T) {
	t.Helper()
	if err := l.router.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.router.Stop() })
}

// twoParties is alice (1) and bob (2) on a clean virtual network.
func twoParties(t *testing.T) (alice, bob *party) {
	t.Helper()
	lab := newVnetLab(t, 0, 0, nil)
	var b bus
	alice = b.newParty(t, 1, lab.net(t), nil)
	bob = b.newParty(t, 2, lab.net(t), nil)
	lab.start(t)
	return alice, bob
}

// failureLog keeps a party's log and prints it only if the test fails, so that a
// rare failure of a real-time test says what the managers did.
func failureLog(t *testing.T, who string) io.Writer {
	w := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", who, w.String())
		}
	})
	return w
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 { // bounded: the tail of a long test is what matters
		s := l.b.String()[l.b.Len()/2:]
		l.b.Reset()
		l.b.WriteString(s)
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newParty makes a manager on network nw (nil: the real loopback) joined to b.
func (b *bus) newParty(t *testing.T, seed byte, nw transport.Net, tweak func(*Config)) *party {
	t.Helper()
	var id identity.PeerID
	id[0], id[15] = seed, seed
	p := &party{id: id, ev: newRecorder(), src: newToneSource(440 + 110*float64(seed)), out: &memSink{}, in: make(chan func(), 256), stop: make(chan struct{})}
	cfg := Config{
		Self:      id,
		Send:      func(to identity.PeerID, m *Message) error { return b.send(id, to, m) },
		OpenAudio: func() (audio.Source, audio.Sink, error) { return p.src, p.out, nil },
		Net:       nw, IncludeLoopback: nw == nil,
		RingTimeout: 10 * time.Second, StatsEvery: 200 * time.Millisecond,
		Emit: func(ev Event) { p.ev.add(ev) },
		Log:  slog.New(slog.NewTextHandler(failureLog(t, fmt.Sprintf("party %d", seed)), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.m = m
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case f := <-p.in:
				f()
			case <-p.stop:
				return
			}
		}
	}()
	t.Cleanup(func() { m.Close(); close(p.stop); <-done; p.src.Close() })
	b.mu.Lock()
	if b.parties == nil {
		b.parties = map[identity.PeerID]*party{}
	}
	b.parties[id] = p
	b.mu.Unlock()
	return p
}

// legCount is how many legs p's call id has (0 when it is gone).
func (p *party) legCount(id ID) int {
	p.m.mu.Lock()
	c := p.m.calls[id]
	p.m.mu.Unlock()
	if c == nil {
		return 0
	}
	return len(c.legList())
}
