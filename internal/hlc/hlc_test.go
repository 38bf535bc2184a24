package hlc

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is an injectable wall clock, safe for concurrent use.
type fakeClock struct{ ms atomic.Int64 }

func newFake(ms int64) *fakeClock {
	f := &fakeClock{}
	f.ms.Store(ms)
	return f
}

func (f *fakeClock) now() time.Time   { return time.UnixMilli(f.ms.Load()) }
func (f *fakeClock) set(ms int64)     { f.ms.Store(ms) }
func (f *fakeClock) advance(ms int64) { f.ms.Add(ms) }
func (f *fakeClock) millis() int64    { return f.ms.Load() }

const t0 = 1_763_700_000_000 // a plausible present-day Unix millisecond

func TestLayout(t *testing.T) {
	ts := New(t0+123, 4)
	if got := ts.WallMillis(); got != t0+123 {
		t.Errorf("WallMillis = %d", got)
	}
	if got := ts.Logical(); got != 4 {
		t.Errorf("Logical = %d", got)
	}
	if got, want := ts.String(), "1763700000123.0004"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got, want := New(1, 65535).String(), "1.65535"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got := ts.Time(); !got.Equal(time.UnixMilli(t0 + 123)) {
		t.Errorf("Time = %v", got)
	}
	if uint64(ts) != uint64(t0+123)<<16|4 {
		t.Errorf("packing: %#x", uint64(ts))
	}
	// Wall time sorts before the logical counter.
	if !(New(5, 65535) < New(6, 0)) || !(New(6, 0) < New(6, 1)) {
		t.Error("uint64 order does not match (wall, logical) order")
	}
	// Clamping.
	if got := New(-5, 1); got.WallMillis() != 0 || got.Logical() != 1 {
		t.Errorf("New(-5, 1) = %v", got)
	}
	if got := New(1<<50, 7); got.WallMillis() != MaxWallMillis || got.Logical() != 7 {
		t.Errorf("New(1<<50, 7) = %v", got)
	}
	if New(MaxWallMillis, 65535) != MaxTimestamp {
		t.Error("MaxTimestamp mismatch")
	}
}

func TestEncodingRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []Timestamp{0, 1, New(t0, 0), New(t0, 65535), MaxTimestamp}
	for range 1000 {
		vals = append(vals, Timestamp(r.Uint64()))
	}
	for i, v := range vals {
		b := v.AppendBinary(nil)
		if len(b) != Size {
			t.Fatalf("len(AppendBinary) = %d", len(b))
		}
		got, err := FromBytes(b)
		if err != nil || got != v {
			t.Fatalf("FromBytes(%x) = %v, %v; want %v", b, got, err, v)
		}
		// Byte order equals numeric order (bbolt key prefix property).
		if i > 0 {
			u := vals[i-1]
			if c := bytes.Compare(u.AppendBinary(nil), b); c != cmpTS(u, v) {
				t.Fatalf("byte order of %v vs %v = %d", u, v, c)
			}
		}
	}
	// Appends rather than overwrites.
	b := New(t0, 9).AppendBinary([]byte("key:"))
	if string(b[:4]) != "key:" || len(b) != 12 {
		t.Fatalf("AppendBinary with prefix = %q", b)
	}
	if got, _ := FromBytes(b[4:]); got != New(t0, 9) {
		t.Fatalf("decoded %v", got)
	}
}

func cmpTS(a, b Timestamp) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestFromBytesWrongLength(t *testing.T) {
	for _, n := range []int{0, 1, 7, 9, 16} {
		_, err := FromBytes(make([]byte, n))
		if !errors.Is(err, ErrLength) {
			t.Errorf("FromBytes(%d bytes) err = %v, want ErrLength", n, err)
		}
	}
	if _, err := FromBytes(nil); !errors.Is(err, ErrLength) {
		t.Errorf("FromBytes(nil) err = %v", err)
	}
}

func TestNowMonotonicFrozen(t *testing.T) {
	f := newFake(t0)
	c := NewClock(f.now, time.Minute)
	prev := c.Now()
	if prev != New(t0, 0) {
		t.Fatalf("first Now = %v", prev)
	}
	for i := range 100_000 {
		ts := c.Now()
		if ts <= prev {
			t.Fatalf("step %d: %v <= %v", i, ts, prev)
		}
		prev = ts
	}
	// 100k events in one frozen millisecond overflowed the counter once.
	if got := prev.WallMillis(); got != t0+1 {
		t.Errorf("wall after 100k frozen ticks = %d, want %d", got, t0+1)
	}
	if c.Last() != prev {
		t.Errorf("Last = %v, want %v", c.Last(), prev)
	}
}

func TestNowMonotonicBackwards(t *testing.T) {
	f := newFake(t0)
	c := NewClock(f.now, time.Minute)
	r := rand.New(rand.NewPCG(3, 4))
	prev := c.Now()
	for i := range 100_000 {
		if i%2 == 0 {
			f.advance(-1) // steadily backwards
		} else {
			f.advance(r.Int64N(2001) - 1000) // and random jumps either way
		}
		ts := c.Now()
		if ts <= prev {
			t.Fatalf("step %d: %v <= %v (wall clock %d)", i, ts, prev, f.millis())
		}
		prev = ts
	}
}

func TestNowFollowsWallClock(t *testing.T) {
	f := newFake(t0)
	c := NewClock(f.now, time.Minute)
	c.Now()
	c.Now()
	f.advance(10)
	if got := c.Now(); got != New(t0+10, 0) {
		t.Errorf("after advance Now = %v, want %v", got, New(t0+10, 0))
	}
}

func TestUpdateAhead(t *testing.T) {
	f := newFake(t0)
	c := NewClock(f.now, time.Minute)
	last := c.Now()
	for _, ahead := range []int64{0, 1, 5_000, 59_999, 60_000} {
		remote := New(t0+ahead, 42)
		got, err := c.Update(remote)
		if err != nil {
			t.Fatalf("Update(+%dms): %v", ahead, err)
		}
		if got <= remote || got <= last {
			t.Fatalf("Update(+%dms) = %v; remote %v, last %v", ahead, got, remote, last)
		}
		last = got
	}
	// Adopting the remote wall time: ties on wall take max(logical)+1.
	if want := New(t0+60_000, 43); last != want {
		t.Errorf("after adopting = %v, want %v", last, want)
	}
	// A remote behind us is merely a receive event.
	got, err := c.Update(New(t0-1000, 7))
	if err != nil || got != last+1 {
		t.Errorf("Update(behind) = %v, %v; want %v", got, err, last+1)
	}
}

func TestUpdateBeyondDrift(t *testing.T) {
	f := newFake(t0)
	c := NewClock(f.now, time.Minute)
	c.Update(New(t0+30_000, 0)) // floor legitimately ahead of the wall clock
	last := c.Last()

	remote := New(t0+61_000, 0)
	got, err := c.Update(remote)
	if !errors.Is(err, ErrDrift) {
		t.Fatalf("Update(+61s) err = %v, want ErrDrift", err)
	}
	if got <= last {
		t.Fatalf("rejected Update = %v, not > last %v", got, last)
	}
	if got >= remote {
		t.Fatalf("rejected remote %v was adopted: %v", remote, got)
	}
	if c.Last() != got {
		t.Fatalf("Last = %v, want %v", c.Last(), got)
	}
	// Wildly wrong clocks, including the maximum timestamp, are harmless.
	for _, remote := range []Timestamp{New(t0+3_600_000, 0), MaxTimestamp} {
		prev := c.Last()
		got, err := c.Update(remote)
		if !errors.Is(err, ErrDrift) || got <= prev || got >= remote {
			t.Fatalf("Update(%v) = %v, %v (prev %v)", remote, got, err, prev)
		}
	}
	if w := c.Last().WallMillis(); w > t0+30_000 {
		t.Errorf("clock dragged forward to %d", w)
	}
	// Later, once the local wall clock catches up, the timestamp is accepted.
	f.set(t0 + 2_000)
	if _, err := c.Update(New(t0+61_000, 0)); err != nil {
		t.Errorf("Update after wall clock advanced: %v", err)
	}
}

func TestDefaultDrift(t *testing.T) {
	f := newFake(t0)
	c := NewClock(f.now, 0)
	if _, err := c.Update(New(t0+DefaultMaxDrift.Milliseconds(), 0)); err != nil {
		t.Errorf("within default drift: %v", err)
	}
	if _, err := c.Update(New(t0+DefaultMaxDrift.Milliseconds()+1, 0)); !errors.Is(err, ErrDrift) {
		t.Errorf("beyond default drift: %v", err)
	}
	// nil now means time.Now.
	before := time.Now().UnixMilli()
	ts := NewClock(nil, 0).Now()
	after := time.Now().UnixMilli()
	if w := ts.WallMillis(); w < before || w > after {
		t.Errorf("NewClock(nil).Now() wall %d not in [%d, %d]", w, before, after)
	}
}

func TestLogicalOverflow(t *testing.T) {
	f := newFake(t0)
	c := NewClock(f.now, time.Minute)
	c.Observe(New(t0, 65534))
	if got := c.Now(); got != New(t0, 65535) {
		t.Fatalf("Now = %v, want %v", got, New(t0, 65535))
	}
	// Overflow carries into the wall component.
	if got := c.Now(); got != New(t0+1, 0) {
		t.Fatalf("Now after overflow = %v, want %v", got, New(t0+1, 0))
	}
	if got := c.Now(); got != New(t0+1, 1) {
		t.Fatalf("Now = %v, want %v", got, New(t0+1, 1))
	}

	// Same through Update: a remote at the counter limit.
	c2 := NewClock(f.now, time.Minute)
	got, err := c2.Update(New(t0, 65535))
	if err != nil || got != New(t0+1, 0) {
		t.Fatalf("Update(limit) = %v, %v; want %v", got, err, New(t0+1, 0))
	}
	// Once the wall clock passes the carried value, it takes over again.
	f.advance(2)
	if got := c2.Now(); got != New(t0+2, 0) {
		t.Fatalf("Now = %v, want %v", got, New(t0+2, 0))
	}
}

func TestExhaustedPanics(t *testing.T) {
	c := NewClock(newFake(t0).now, time.Minute)
	c.Observe(MaxTimestamp)
	defer func() {
		if recover() == nil {
			t.Error("Now at MaxTimestamp did not panic")
		}
	}()
	c.Now()
}

func TestObserveRestart(t *testing.T) {
	f := newFake(t0)
	c := NewClock(f.now, time.Minute)
	var stored Timestamp
	for range 10 {
		stored = c.Now()
	}
	// Restart with the wall clock set back by an hour.
	f.set(t0 - 3_600_000)
	c = NewClock(f.now, time.Minute)
	c.Observe(stored)
	if c.Last() != stored {
		t.Fatalf("Last after Observe = %v, want %v", c.Last(), stored)
	}
	if got := c.Now(); got <= stored {
		t.Fatalf("Now after restart = %v, not > stored %v", got, stored)
	}
	// Observe never lowers the floor.
	last := c.Last()
	c.Observe(New(t0-10_000_000, 0))
	if c.Last() != last {
		t.Fatalf("Observe lowered floor: %v -> %v", last, c.Last())
	}
}

// node is one simulated machine: a clock whose wall time is the shared real
// time plus a fixed skew.
type node struct {
	name  string
	skew  int64
	clock *Clock
	last  Timestamp
}

func newNode(name string, real *fakeClock, skew int64, maxDrift time.Duration) *node {
	n := &node{name: name, skew: skew}
	n.clock = NewClock(func() time.Time { return time.UnixMilli(real.millis() + n.skew) }, maxDrift)
	return n
}

// check asserts the clock is strictly increasing and bounded by physical
// time: pt <= l.wall <= max physical time seen anywhere.
func (n *node) check(t *testing.T, ts Timestamp, real *fakeClock, maxPT int64) {
	t.Helper()
	if ts <= n.last {
		t.Fatalf("%s: %v <= previous %v", n.name, ts, n.last)
	}
	n.last = ts
	if pt := real.millis() + n.skew; ts.WallMillis() < pt {
		t.Fatalf("%s: %v behind its wall clock %d", n.name, ts, pt)
	}
	if ts.WallMillis() > maxPT {
		t.Fatalf("%s: %v ahead of every wall clock (max %d)", n.name, ts, maxPT)
	}
}

// TestCausalityPingPong: A (skewed) and B exchange messages; every receive
// timestamp must exceed the send timestamp it reacts to.
func TestCausalityPingPong(t *testing.T) {
	r := rand.New(rand.NewPCG(2014, 42))
	const maxDrift = time.Minute
	skews := []int64{5_000, -5_000, 0, 59_999, -59_999}
	for range 200 {
		skews = append(skews, r.Int64N(2*maxDrift.Milliseconds()-1)-maxDrift.Milliseconds()+1)
	}
	for _, skew := range skews {
		real := newFake(t0)
		a := newNode("A", real, skew, maxDrift)
		b := newNode("B", real, 0, maxDrift)
		maxPT := func() int64 { return real.millis() + max(skew, 0) }
		for step := range 500 {
			switch r.IntN(6) {
			case 0: // real time passes (possibly not at all)
				real.advance(r.Int64N(20))
			case 1: // local event on a random node
				n := []*node{a, b}[r.IntN(2)]
				n.check(t, n.clock.Now(), real, maxPT())
			default: // message, in either direction, possibly a reply burst
				from, to := a, b
				if r.IntN(2) == 0 {
					from, to = b, a
				}
				for range 1 + r.IntN(3) {
					sent := from.clock.Now()
					from.check(t, sent, real, maxPT())
					recv, err := to.clock.Update(sent)
					if err != nil {
						t.Fatalf("skew %d step %d: Update(%v): %v", skew, step, sent, err)
					}
					to.check(t, recv, real, maxPT())
					if recv <= sent {
						t.Fatalf("skew %d step %d: %s received %v at %v (not after send)",
							skew, step, to.name, sent, recv)
					}
					from, to = to, from // the receiver replies: ping-pong
				}
			}
		}
	}
}

// TestHostilePeer: a peer far beyond the drift limit cannot drag us forward,
// and local timestamps keep increasing.
func TestHostilePeer(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	real := newFake(t0)
	a := newNode("A", real, 0, time.Minute)
	for range 10_000 {
		real.advance(r.Int64N(3))
		evil := New(t0+61_000+r.Int64N(1<<40), uint16(r.Uint32()))
		got, err := a.clock.Update(evil)
		if !errors.Is(err, ErrDrift) {
			t.Fatalf("Update(%v): err = %v", evil, err)
		}
		a.check(t, got, real, real.millis())
	}
}

func TestConcurrentNowUnique(t *testing.T) {
	const goroutines, perG = 8, 20_000
	f := newFake(t0) // frozen: maximal contention on the logical counter
	c := NewClock(f.now, time.Minute)
	results := make([][]Timestamp, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			out := make([]Timestamp, 0, perG)
			for i := range perG {
				if g == 0 && i%1000 == 0 {
					f.advance(-1) // and a wall clock that goes backwards
				}
				out = append(out, c.Now())
			}
			results[g] = out
		})
	}
	wg.Wait()
	seen := make(map[Timestamp]bool, goroutines*perG)
	var maxTS Timestamp
	for g, out := range results {
		for i, ts := range out {
			if seen[ts] {
				t.Fatalf("duplicate timestamp %v", ts)
			}
			seen[ts] = true
			if i > 0 && ts <= out[i-1] {
				t.Fatalf("goroutine %d: %v <= %v", g, ts, out[i-1])
			}
			maxTS = max(maxTS, ts)
		}
	}
	if c.Last() != maxTS {
		t.Errorf("Last = %v, want %v", c.Last(), maxTS)
	}
}

func FuzzFromBytes(f *testing.F) {
	f.Add([]byte{})
	f.Add(New(t0, 4).AppendBinary(nil))
	f.Add(make([]byte, 9))
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := FromBytes(b)
		if len(b) != Size {
			if !errors.Is(err, ErrLength) {
				t.Fatalf("len %d: err = %v", len(b), err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ts.AppendBinary(nil), b) {
			t.Fatalf("round trip %x -> %v -> %x", b, ts, ts.AppendBinary(nil))
		}
		if New(ts.WallMillis(), ts.Logical()) != ts {
			t.Fatalf("New(WallMillis, Logical) != %v", ts)
		}
	})
}

func BenchmarkNow(b *testing.B) {
	c := NewClock(time.Now, time.Minute)
	for b.Loop() {
		c.Now()
	}
}

func BenchmarkNowParallel(b *testing.B) {
	c := NewClock(time.Now, time.Minute)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Now()
		}
	})
}
