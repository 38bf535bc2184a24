package talkgroup

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
	"parley/internal/counters"
	"parley/media/audio"
	"parley/media/signal"
)

// world is an in-memory talkgroup: every member is in room "ops" and
// linked to every other; frames are handed over at once.
type world struct {
	t     *testing.T
	ids   []*identity.Identity
	svcs  map[identity.PeerID]*Service
	sinks map[identity.PeerID]*countSink
	sent  map[identity.PeerID]*atomic.Int64 // frames each node sent
	stats map[identity.PeerID]*counters.Set
	mu    sync.Mutex
	evs   map[identity.PeerID][]Event
	up    map[identity.PeerID]bool // online members
	ranks atomic.Int64
}

type countSink struct{ frames, loud atomic.Int64 }

func (c *countSink) WriteFrame(p []int16) error {
	c.frames.Add(1)
	if signal.RMS(p) > 0.05 {
		c.loud.Add(1)
	}
	return nil
}
func (c *countSink) Close() error { return nil }

type worldNet struct {
	w    *world
	self identity.PeerID
}

func (n worldNet) SendTo(to identity.PeerID, _ uint8, p []byte) (bool, error) {
	n.w.sent[n.self].Add(1)
	n.w.mu.Lock()
	up := n.w.up[to]
	n.w.mu.Unlock()
	if s := n.w.svcs[to]; s != nil && up {
		s.Handle(n.self, append([]byte(nil), p...))
	}
	return true, nil
}

func (n worldNet) PublicKey(id identity.PeerID) ed25519.PublicKey {
	for _, x := range n.w.ids {
		if x.ID == id {
			return x.Public
		}
	}
	return nil
}

func newWorld(t *testing.T, ctx context.Context, n int) *world {
	w := &world{t: t, svcs: map[identity.PeerID]*Service{}, sinks: map[identity.PeerID]*countSink{},
		sent: map[identity.PeerID]*atomic.Int64{}, stats: map[identity.PeerID]*counters.Set{},
		evs: map[identity.PeerID][]Event{}, up: map[identity.PeerID]bool{}}
	for i := range n {
		w.ids = append(w.ids, testID(t, byte(i+1)))
	}
	for _, id := range w.ids {
		self := id.ID
		sink := &countSink{}
		w.sinks[self], w.sent[self], w.stats[self], w.up[self] = sink, &atomic.Int64{}, &counters.Set{}, true
		w.svcs[self] = New(Config{
			Identity: id, Net: worldNet{w, self}, Type: 35,
			Joined:  func(r string) bool { return r == "ops" },
			Monitor: func(string) bool { return true },
			Members: func(string) []identity.PeerID {
				w.mu.Lock()
				defer w.mu.Unlock()
				var out []identity.PeerID
				for _, o := range w.ids {
					if o.ID != self && w.up[o.ID] {
						out = append(out, o.ID)
					}
				}
				return out
			},
			// A ranking that changes at every call, as measured costs do:
			// the tree must not reshuffle mid-transmission.
			Rank: func(m []identity.PeerID) []identity.PeerID {
				k := int(w.ranks.Add(1)) % len(m)
				return append(append([]identity.PeerID(nil), m[k:]...), m[:k]...)
			},
			OpenSource: func() (audio.Source, error) { return audio.Paced(audio.NewTone(440, 0.3), nil), nil },
			OpenSink:   func() (audio.Sink, error) { return sink, nil },
			Emit: func(e Event) {
				w.mu.Lock()
				w.evs[self] = append(w.evs[self], e)
				w.mu.Unlock()
			},
			Stats: w.stats[self],
		})
		go w.svcs[self].Run(ctx)
	}
	return w
}

func (w *world) events(id identity.PeerID) []Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Event(nil), w.evs[id]...)
}

func (w *world) lastState(id identity.PeerID) (State, bool) {
	evs := w.events(id)
	for i := len(evs) - 1; i >= 0; i-- {
		if s, ok := evs[i].(State); ok {
			return s, true
		}
	}
	return State{}, false
}

// One speaker, 20 listeners: every listener plays the tone, the speaker
// sends FanOut copies of each frame, not 20; a second press gets Busy and
// the floor when the first lets go; the replay plays the last transmission.
func TestTalkgroupFanOutAndFloor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer func() { cancel(); time.Sleep(100 * time.Millisecond) }() // transmissions notice between frames
		const n = 21
		w := newWorld(t, ctx, n)
		a, b := w.ids[0].ID, w.ids[1].ID
		if err := w.svcs[a].Press("ops"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		frames := w.stats[a].Get("ptt_frames_sent")
		if frames < 90 {
			t.Fatalf("a sent %d frames in 2 s", frames)
		}
		// Copies: FanOut per frame, plus tree frames to the forwarders.
		if got, max := w.sent[a].Load(), int64(frames)*FanOut+int64(3*FanOut); got > max {
			t.Fatalf("a sent %d frames for %d audio frames: more than %d copies each", got, frames, FanOut)
		}
		for _, x := range w.ids[1:] {
			id := x.ID
			if loud := w.sinks[id].loud.Load(); loud < 80 {
				t.Fatalf("%v played %d loud frames", id.Short(), loud)
			}
			if s, ok := w.lastState(id); !ok || !s.On || s.Speaker != a {
				t.Fatalf("%v: state %+v", id.Short(), s)
			}
		}
		for _, x := range w.ids {
			if d := w.stats[x.ID].Get("ptt_drop_dup"); d != 0 {
				t.Fatalf("%v got %d frames twice", x.ID.Short(), d)
			}
		}
		// b presses while a talks: busy, queued first.
		if err := w.svcs[b].Press("ops"); err != nil {
			t.Fatal(err)
		}
		evs := w.events(b)
		busy, ok := evs[len(evs)-1].(Busy)
		if !ok || busy.Holder != a || busy.Position != 1 {
			t.Fatalf("b's press: %+v", evs[len(evs)-1])
		}
		time.Sleep(500 * time.Millisecond)
		if _, _, q := w.svcs[a].Holder("ops"); len(q) != 1 || q[0].Peer != b {
			t.Fatalf("a's queue %v", q)
		}
		// a lets go: b gets the floor without pressing again.
		w.svcs[a].Release("ops")
		time.Sleep(time.Second)
		for _, id := range w.ids {
			if id.ID == b {
				continue
			}
			if s, _ := w.lastState(id.ID); !s.On || s.Speaker != b {
				t.Fatalf("%v: after a let go, state %+v", id.ID.Short(), s)
			}
		}
		w.svcs[b].Release("ops")
		time.Sleep(time.Second)
		if s, _ := w.lastState(a); s.On || s.Why != "end" {
			t.Fatalf("a: %+v", s)
		}
		// Replay at c: b's transmission, into c's sink.
		c := w.ids[2].ID
		before := w.sinks[c].loud.Load()
		if err := w.svcs[c].Replay("ops"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		if got := w.sinks[c].loud.Load() - before; got < 30 {
			t.Fatalf("replay played %d loud frames", got)
		}
	})
}

// Two members press at once: exactly one keeps the floor everywhere, the
// other is told busy and queued.
func TestTalkgroupSimultaneousPress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer func() { cancel(); time.Sleep(100 * time.Millisecond) }() // transmissions notice between frames
		w := newWorld(t, ctx, 6)
		a, b := w.ids[0].ID, w.ids[1].ID
		// Neither has heard the other when pressing.
		var wg sync.WaitGroup
		for _, id := range []identity.PeerID{a, b} {
			wg.Go(func() { w.svcs[id].Press("ops") })
		}
		wg.Wait()
		time.Sleep(time.Second)
		ha, _, _ := w.svcs[a].Holder("ops")
		for _, id := range w.ids {
			h, held, _ := w.svcs[id.ID].Holder("ops")
			if !held || h != ha {
				t.Fatalf("%v holds %v (held %v), a says %v", id.ID.Short(), h.Short(), held, ha.Short())
			}
		}
		loser := a
		if ha == a {
			loser = b
		}
		found := false
		for _, e := range w.events(loser) {
			if bz, ok := e.(Busy); ok && bz.Holder == ha {
				found = true
			}
		}
		if !found {
			t.Fatalf("loser %v got no busy: %v", loser.Short(), w.events(loser))
		}
	})
}

// The speaker disappears mid-transmission: every member frees the floor
// after Silence, and a queued member takes it.
func TestTalkgroupSpeakerVanishes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer func() { cancel(); time.Sleep(100 * time.Millisecond) }() // transmissions notice between frames
		w := newWorld(t, ctx, 5)
		a, b := w.ids[0].ID, w.ids[1].ID
		w.svcs[a].Press("ops")
		time.Sleep(500 * time.Millisecond)
		w.svcs[b].Press("ops")
		w.mu.Lock()
		w.up[a] = false // a's frames reach no one from now on
		w.mu.Unlock()
		time.Sleep(Silence + time.Second)
		for _, id := range w.ids[1:] {
			if s, _ := w.lastState(id.ID); !s.On || s.Speaker != b {
				t.Fatalf("%v: %+v", id.ID.Short(), s)
			}
		}
		found := false
		for _, e := range w.events(w.ids[2].ID) {
			if s, ok := e.(State); ok && !s.On && s.Speaker == a && s.Why == "silence" {
				found = true
			}
		}
		if !found {
			t.Fatal(fmt.Sprint("no silence end at c: ", w.events(w.ids[2].ID)))
		}
	})
}

// Hostile input: each refused frame is counted under its reason and neither
// played nor forwarded.
func TestHandleRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer func() { cancel(); time.Sleep(100 * time.Millisecond) }()
		w := newWorld(t, ctx, 3)
		a, b := w.ids[0], w.ids[1].ID
		svc, st := w.svcs[b], w.stats[b]
		audioFrame := func(id *identity.Identity, room string, seq uint32) []byte {
			p, err := Encode(id, Frame{Kind: KindAudio, Room: room, TX: 1, Seq: seq, Opus: []byte{0xf8, 0xff, 0xfe}})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		via := w.ids[2].ID
		svc.Handle(via, []byte{1, 2, 3})
		svc.Handle(via, audioFrame(a, "elsewhere", 0))
		outsider := testID(t, 99) // no key known, not a member
		svc.Handle(via, audioFrame(outsider, "ops", 0))
		forged := audioFrame(a, "ops", 0)
		forged[len(forged)-1] ^= 1
		svc.Handle(via, forged)
		for seq := range uint32(speakerBurst + 50) {
			svc.Handle(via, audioFrame(a, "ops", seq))
		}
		// One neighbour's frames are bounded before their signatures are
		// checked: junk beyond viaRate is not even decoded.
		for range viaRate + 30 {
			svc.Handle(a.ID, forged)
		}
		for name, want := range map[string]uint64{
			"ptt_drop_malformed": 1, "ptt_drop_room": 1, "ptt_drop_unknown": 1, "ptt_drop_rate": 50,
			"ptt_drop_sig": 1 + viaRate, "ptt_drop_via_rate": 30,
		} {
			if got := st.Get(name); got != want {
				t.Errorf("%s = %d, want %d (all: %v)", name, got, want, st.Snapshot())
			}
		}
		if w.sent[b].Load() != 0 {
			t.Fatalf("b forwarded %d frames with no tree", w.sent[b].Load())
		}
	})
}

// A key held down past MaxTalk: the speaker stops itself, every member frees
// the floor, and the key must be pressed again.
func TestTalkgroupMaxTalk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer func() { cancel(); time.Sleep(100 * time.Millisecond) }()
		w := newWorld(t, ctx, 3)
		a := w.ids[0].ID
		w.svcs[a].Press("ops")
		time.Sleep(MaxTalk - time.Second)
		if s, _ := w.lastState(w.ids[1].ID); !s.On {
			t.Fatalf("b: %+v before MaxTalk", s)
		}
		time.Sleep(2 * time.Second)
		for _, x := range w.ids {
			if s, _ := w.lastState(x.ID); s.On || s.Speaker != a {
				t.Fatalf("%v after MaxTalk: %+v", x.ID.Short(), s)
			}
		}
		if s, _ := w.lastState(a); s.Why != "max_talk" {
			t.Fatalf("a's own end: %+v", s)
		}
		time.Sleep(3 * time.Second) // no new transmission starts by itself
		if _, held, _ := w.svcs[a].Holder("ops"); held {
			t.Fatal("the floor was taken again without a press")
		}
	})
}

// A node with nothing to play and no floor to time does not tick: Run sleeps
// until a key, a frame or a replay wakes it, and sleeps again once the
// transmission has drained and the floor is free.
func TestIdleServiceDoesNotTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer func() { cancel(); time.Sleep(100 * time.Millisecond) }()
		w := newWorld(t, ctx, 3)
		a, b := w.ids[0].ID, w.ids[1].ID
		time.Sleep(2 * time.Second)
		synctest.Wait()
		for _, x := range w.ids {
			if n := w.svcs[x.ID].ticks.Load(); n > 1 {
				t.Fatalf("%s ticked %d times in 2 s with nothing to do", x.ID.Short(), n)
			}
		}
		w.svcs[a].Press("ops")
		time.Sleep(time.Second)
		if n := w.svcs[b].ticks.Load(); n < 40 {
			t.Fatalf("b ticked %d times in the second a talked; want about 50", n)
		}
		w.svcs[a].Release("ops")
		time.Sleep(3 * time.Second) // the drain and the floor's release
		synctest.Wait()
		before := w.svcs[b].ticks.Load()
		time.Sleep(2 * time.Second)
		if n := w.svcs[b].ticks.Load() - before; n != 0 {
			t.Fatalf("b ticked %d times after the transmission ended", n)
		}
		if err := w.svcs[b].Replay("ops"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		if n := w.svcs[b].ticks.Load() - before; n < 20 {
			t.Fatalf("a replay woke b for %d ticks", n)
		}
	})
}
