package chat

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/seal"
)

// manualClock is a wall clock that moves only when the test says so.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRoutedLimiterBucket(t *testing.T) {
	clk := &manualClock{t: time.Unix(1000, 0)}
	l := newRoutedLimiter(10, 20, clk.now)
	a := bucketKey{via: testIdentity(t, 1).ID, src: testIdentity(t, 2).ID}
	b := bucketKey{via: a.via, src: testIdentity(t, 3).ID}
	allowed := func(k bucketKey, n int) (ok int) {
		for range n {
			if l.allow(k) {
				ok++
			}
		}
		return ok
	}
	if got := allowed(a, 25); got != 20 {
		t.Fatalf("a full bucket of 20 let %d of 25 through", got)
	}
	if got := allowed(b, 20); got != 20 {
		t.Fatalf("another author's bucket was spent by the first: %d of 20", got)
	}
	clk.add(500 * time.Millisecond) // 5 tokens at 10/s
	if got := allowed(a, 10); got != 5 {
		t.Fatalf("after 0.5 s at 10/s: %d through, want 5", got)
	}
	clk.add(time.Hour) // refills to the burst, never beyond
	if got := allowed(a, 30); got != 20 {
		t.Fatalf("after an idle hour: %d through, want the burst of 20", got)
	}
}

func TestRoutedLimiterMemoryBounded(t *testing.T) {
	clk := &manualClock{t: time.Unix(1000, 0)}
	l := newRoutedLimiter(10, 20, clk.now)
	via := testIdentity(t, 1).ID
	for i := range maxBuckets + 100 {
		var src identity.PeerID
		src[0], src[1], src[2] = byte(i), byte(i>>8), 0xAA
		l.allow(bucketKey{via: via, src: src})
		l.allow(bucketKey{via: via, src: src}) // busy: not swept as idle
	}
	if n := len(l.buckets); n > maxBuckets {
		t.Fatalf("%d buckets kept, cap %d", n, maxBuckets)
	}
}

// A flood of routed messages from one author must neither block the relay's
// link (HandleRouted returns even while the committer is stalled and the queue is
// full) nor cost another author anything: budgets are per (relay, author), and
// an author that lies about who it is spends only its own relay's budget.
func TestRoutedFloodNeitherBlocksNorStarves(t *testing.T) {
	n := newFakeNet(t)
	c := &node{t: t, net: n, id: testIdentity(t, 3), dir: t.TempDir(), retry: time.Hour, stats: &counters.Set{}, ev: newRecorder()}
	n.mu.Lock()
	n.peers[c.id.ID] = &endpoint{id: c.id}
	n.online[c.id.ID] = true
	n.mu.Unlock()
	run := c.startPaused() // the committer is stalled until run()
	t.Cleanup(c.stop)
	clk := &manualClock{t: time.Unix(1000, 0)}
	c.svc.routed = newRoutedLimiter(routedRate, routedBurst, clk.now)

	flooder, honest, relay, liar := testIdentity(t, 9), testIdentity(t, 1), testIdentity(t, 2), testIdentity(t, 8)
	n.know(flooder, honest)
	envelope := func(from *identity.Identity, id string) []byte {
		t.Helper()
		body := EncodeBody(Body{Kind: KindDirect, ID: id, HLC: 1, Sent: time.Unix(1000, 0), Text: "x"})
		env, err := seal.Seal(from, c.id.Public, append([]byte{TypeMessage}, body...))
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	const extra = 100
	floods := make([][]byte, routedBurst+extra+routedRate)
	for i := range floods {
		floods[i] = envelope(flooder, fmt.Sprintf("F%05d", i))
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		// A burst past the budget, at a frozen clock.
		for _, env := range floods[:routedBurst+extra] {
			c.svc.HandleRouted(flooder.ID, relay.ID, env)
		}
		// One more second of budget: more than the queue has room for.
		clk.add(time.Second)
		for _, env := range floods[routedBurst+extra:] {
			c.svc.HandleRouted(flooder.ID, relay.ID, env)
		}
		// Someone else's link claims to carry the honest author, a thousand times over.
		for range routedBurst + extra {
			c.svc.HandleRouted(honest.ID, liar.ID, []byte("garbage claiming to be honest"))
		}
		// The honest author, through the same relay as the flood.
		c.svc.HandleRouted(honest.ID, relay.ID, envelope(honest, "H00001"))
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		run() // let the committer drain the queue, so the blocked handler (and the test) can end
		t.Fatal("HandleRouted blocked: a routed flood stalls the relay's link")
	}

	// Budgets are spent by the sealed sender, which only a valid envelope names:
	// the liar's garbage is dropped unopened and spends nobody's budget.
	if got := c.stats.Get("chat_drop_rate"); got != extra {
		t.Errorf("chat_drop_rate %d, want %d over the flooder's burst", got, extra)
	}
	if got := c.stats.Get("chat_drop_unsealable"); got != routedBurst+extra {
		t.Errorf("chat_drop_unsealable %d, want %d (the liar's garbage)", got, routedBurst+extra)
	}
	// The flooder got routedBurst+routedRate frames past its budget; its queue holds
	// perPeerQueue of them, the rest are dropped (and would be sent again).
	if got, want := c.stats.Get("chat_drop_queue_full"), uint64(routedBurst+routedRate-perPeerQueue); got != want {
		t.Errorf("chat_drop_queue_full %d, want %d", got, want)
	}
	run()
	if m := c.waitReceived("H00001"); m.From != honest.ID.String() {
		t.Fatalf("honest message from %s", m.From)
	}
	c.ev.wait(t, "every queued flood message committed", func(evs []any) bool { return len(receivedOf(evs)) == perPeerQueue+1 })
}
