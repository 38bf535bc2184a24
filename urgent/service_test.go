package urgent

import (
	"crypto/ed25519"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/seal"
)

// world is an in-memory overlay: nodes, who is online, which pairs are linked.
// Frames are delivered on goroutines, as the overlay's reader would.
type world struct {
	t      *testing.T
	mu     sync.Mutex
	nodes  map[identity.PeerID]*tnode
	links  map[[2]identity.PeerID]bool
	online map[identity.PeerID]bool
	drop   func(from, to identity.PeerID, typ uint8) bool
}

type tnode struct {
	w      *world
	id     *identity.Identity
	svc    *Service
	stats  *counters.Set
	events chan Event
	saved  []byte
}

func newWorld(t *testing.T) *world {
	return &world{t: t, nodes: map[identity.PeerID]*tnode{}, links: map[[2]identity.PeerID]bool{}, online: map[identity.PeerID]bool{}}
}

func (w *world) add(t *testing.T) *tnode {
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	n := &tnode{w: w, id: id, stats: &counters.Set{}, events: make(chan Event, 64)}
	n.start(t)
	w.mu.Lock()
	w.nodes[id.ID] = n
	w.online[id.ID] = true
	w.mu.Unlock()
	return n
}

// start makes the node's service afresh from its saved state (a restart).
func (n *tnode) start(t *testing.T) {
	svc, err := New(Config{
		Identity: n.id, Net: n, Stats: n.stats,
		Emit: func(e Event) { n.events <- e },
		Load: func() ([]byte, error) { return n.saved, nil },
		Save: func(b []byte) error { n.saved = b; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	n.svc = svc
}

func (w *world) link(a, b *tnode) {
	w.links[[2]identity.PeerID{a.id.ID, b.id.ID}] = true
	w.links[[2]identity.PeerID{b.id.ID, a.id.ID}] = true
}

func (n *tnode) Linked(id identity.PeerID) bool {
	n.w.mu.Lock()
	defer n.w.mu.Unlock()
	return n.w.links[[2]identity.PeerID{n.id.ID, id}]
}

func (n *tnode) Online(id identity.PeerID) bool {
	n.w.mu.Lock()
	defer n.w.mu.Unlock()
	return n.w.online[id]
}

func (n *tnode) Neighbours() []identity.PeerID {
	n.w.mu.Lock()
	defer n.w.mu.Unlock()
	var out []identity.PeerID
	for k := range n.w.links {
		if k[0] == n.id.ID {
			out = append(out, k[1])
		}
	}
	return out
}

func (n *tnode) PublicKey(id identity.PeerID) ed25519.PublicKey {
	n.w.mu.Lock()
	defer n.w.mu.Unlock()
	if o := n.w.nodes[id]; o != nil {
		return o.id.Public
	}
	return nil
}

func (n *tnode) Send(to identity.PeerID, typ uint8, p []byte) error {
	if !n.Linked(to) {
		return errors.New("no link")
	}
	_, err := n.SendTo(to, typ, p)
	return err
}

func (n *tnode) SendTo(to identity.PeerID, typ uint8, p []byte) (bool, error) {
	w := n.w
	w.mu.Lock()
	dst, up, drop := w.nodes[to], w.online[to], w.drop
	w.mu.Unlock()
	if dst == nil || !up {
		return false, errors.New("unreachable")
	}
	if drop != nil && drop(n.id.ID, to, typ) {
		return true, nil
	}
	p = append([]byte(nil), p...)
	go func() {
		if typ == TypeAlert {
			dst.svc.HandleAlert(n.id.ID, p)
		} else {
			dst.svc.HandleUrgent(n.id.ID, n.id.ID, p)
		}
	}()
	return true, nil
}

func (n *tnode) next(t *testing.T) Event {
	t.Helper()
	synctest.Wait()
	select {
	case e := <-n.events:
		return e
	default:
		t.Fatal("no event")
		return nil
	}
}

func (n *tnode) none(t *testing.T) {
	t.Helper()
	synctest.Wait()
	select {
	case e := <-n.events:
		t.Fatalf("unexpected event %#v", e)
	default:
	}
}

func (n *tnode) run(t *testing.T) {
	ctx := t.Context()
	go n.svc.Run(ctx)
}

// TestMessageRetriedUntilAcknowledged: a message to a peer that is away is
// sent once it is reachable, survives the sender's restart, is shown once
// however often it is sent, and the recipient's acknowledgement reaches the
// sender with who and when; then the retries stop.
func TestMessageRetriedUntilAcknowledged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		a, b := w.add(t), w.add(t)
		w.online[b.id.ID] = false
		id, err := a.svc.Send([]identity.PeerID{b.id.ID}, "", "gas leak, leave now")
		if err != nil {
			t.Fatal(err)
		}
		b.none(t)
		// The sender restarts before the recipient comes back.
		a.start(t)
		a.run(t)
		w.mu.Lock()
		w.online[b.id.ID] = true
		w.mu.Unlock()
		time.Sleep(2 * time.Second)
		e := b.next(t).(Received)
		if e.Item.ID != id || e.Item.From != a.id.ID || e.Item.Text != "gas leak, leave now" || e.Item.Alert {
			t.Fatalf("received %+v", e.Item)
		}
		// Not acknowledged yet: sent again, shown once.
		time.Sleep(10 * time.Second)
		b.none(t)
		if b.stats.Get("urgent_dup") == 0 {
			t.Fatal("no retry arrived before the acknowledgement")
		}
		in, _ := b.svc.Pending()
		if len(in) != 1 {
			t.Fatalf("recipient's pending list: %+v", in)
		}
		ackAt := time.Now()
		if err := b.svc.Ack(id); err != nil {
			t.Fatal(err)
		}
		if e := b.next(t).(Acknowledged); e.By != b.id.ID {
			t.Fatalf("local ack event %+v", e)
		}
		ack := a.next(t).(Acknowledged)
		if ack.ID != id || ack.By != b.id.ID || ack.At.UnixMilli() != ackAt.UnixMilli() {
			t.Fatalf("sender got %+v", ack)
		}
		sent := a.stats.Get("urgent_sent")
		time.Sleep(time.Minute)
		if got := a.stats.Get("urgent_sent"); got != sent {
			t.Fatalf("%d more sends after the acknowledgement", got-sent)
		}
		_, out := a.svc.Pending()
		if len(out) != 1 || out[0].Acked[b.id.ID].IsZero() {
			t.Fatalf("sender's pending list: %+v", out)
		}
		if in, _ := b.svc.Pending(); len(in) != 0 {
			t.Fatalf("acknowledged item still listed: %+v", in)
		}
	})
}

// TestLostAckSentAgain: the recipient's acknowledgement is lost; the sender's
// next retry makes the recipient acknowledge again, without showing it again.
func TestLostAckSentAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		a, b := w.add(t), w.add(t)
		a.run(t)
		id, _ := a.svc.Send([]identity.PeerID{b.id.ID}, "", "x")
		b.next(t)
		w.mu.Lock()
		lost := 0
		w.drop = func(from, to identity.PeerID, _ uint8) bool {
			if from == b.id.ID && lost == 0 {
				lost++
				return true
			}
			return false
		}
		w.mu.Unlock()
		b.svc.Ack(id)
		b.next(t) // the local event
		a.none(t)
		time.Sleep(5 * time.Second)
		if e := a.next(t).(Acknowledged); e.By != b.id.ID {
			t.Fatalf("%+v", e)
		}
		b.none(t)
		if b.stats.Get("urgent_reacked") == 0 {
			t.Fatal("urgent_reacked not counted")
		}
	})
}

// TestCancelWithdraws: a cancelled message leaves the recipient's list and
// is no longer sent.
func TestCancelWithdraws(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		a, b := w.add(t), w.add(t)
		a.run(t)
		id, _ := a.svc.Send([]identity.PeerID{b.id.ID}, "room1", "x")
		if e := b.next(t).(Received); e.Item.Room != "room1" {
			t.Fatalf("%+v", e)
		}
		if err := a.svc.Cancel(id); err != nil {
			t.Fatal(err)
		}
		a.next(t)
		if e := b.next(t).(Cancelled); e.ID != id || e.By != a.id.ID {
			t.Fatalf("%+v", e)
		}
		if in, _ := b.svc.Pending(); len(in) != 0 {
			t.Fatalf("%+v", in)
		}
		if err := b.svc.Ack(id); !errors.Is(err, ErrUnknown) {
			t.Fatalf("ack of a cancelled item: %v", err)
		}
	})
}

// TestRateCapAtReceiver: a sender that ignores its own cap gets 6 new items a
// minute through; the rest are dropped and counted, and a retry of an item
// already held does not count.
func TestRateCapAtReceiver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		a, b := w.add(t), w.add(t)
		env := func(id ID) []byte {
			e, err := seal.Seal(a.id, b.id.Public, EncodeBody(Body{Kind: KindMessage, ID: id, At: time.Now(), Text: "flood"}))
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		first := NewID()
		b.svc.HandleUrgent(a.id.ID, a.id.ID, env(first))
		for range 19 {
			b.svc.HandleUrgent(a.id.ID, a.id.ID, env(NewID()))
		}
		b.svc.HandleUrgent(a.id.ID, a.id.ID, env(first)) // a retry
		if got, drop := b.stats.Get("urgent_received"), b.stats.Get("urgent_drop_rate"); got != 6 || drop != 14 {
			t.Fatalf("received %d, dropped %d; want 6 and 14", got, drop)
		}
		if b.stats.Get("urgent_dup") != 1 {
			t.Fatal("the retry was not recognised")
		}
		time.Sleep(10 * time.Second) // one token back
		b.svc.HandleUrgent(a.id.ID, a.id.ID, env(NewID()))
		b.svc.HandleUrgent(a.id.ID, a.id.ID, env(NewID()))
		if got := b.stats.Get("urgent_received"); got != 7 {
			t.Fatalf("received %d after 10 s; want 7", got)
		}
		// The sender's own cap refuses the seventh item of a minute.
		for i := range 7 {
			_, err := a.svc.Send([]identity.PeerID{b.id.ID}, "", "x")
			if (i < 6) != (err == nil) || i == 6 && !errors.Is(err, ErrRate) {
				t.Fatalf("send %d: %v", i, err)
			}
		}
	})
}

// TestAlertFloodsLine: an alert raised at one end of a line of five nodes
// reaches every node once, through the others, and the acknowledgements come
// back to the origin; a node that blocked the origin does not show it but
// passes it on.
func TestAlertFloodsLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var line []*tnode
		for i := range 5 {
			line = append(line, w.add(t))
			if i > 0 {
				w.link(line[i-1], line[i])
			}
		}
		origin := line[0]
		line[2].svc.cfg.Blocked = func(p identity.PeerID) bool { return p == origin.id.ID }
		id, err := origin.svc.Alert("evacuate building B")
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range line[1:] {
			if i+1 == 2 {
				n.none(t)
				continue
			}
			e := n.next(t).(Received)
			if !e.Item.Alert || e.Item.From != origin.id.ID || e.Item.ID != id {
				t.Fatalf("node %d got %+v", i+1, e.Item)
			}
			if err := n.svc.Ack(id); err != nil {
				t.Fatal(err)
			}
			n.next(t)
		}
		if line[2].stats.Get("alert_drop_blocked") != 1 {
			t.Fatal("blocked origin's alert not counted")
		}
		by := map[identity.PeerID]bool{}
		for range 3 {
			by[origin.next(t).(Acknowledged).By] = true
		}
		if !by[line[1].id.ID] || !by[line[3].id.ID] || !by[line[4].id.ID] {
			t.Fatalf("acknowledged by %v", by)
		}
		// Flooded again later: every node drops the copy as a duplicate.
		origin.run(t)
		time.Sleep(alertReflood + time.Second)
		for _, n := range line[1:] {
			n.none(t)
		}
		if line[1].stats.Get("alert_dup") == 0 {
			t.Fatal("the re-flood did not arrive")
		}
		// A node linking up late hears the live alert from its neighbour.
		late := w.add(t)
		w.link(line[4], late)
		line[4].svc.LinkUp(late.id.ID)
		if e := late.next(t).(Received); e.Item.ID != id || e.Item.From != origin.id.ID {
			t.Fatalf("late node got %+v", e.Item)
		}
		// A stale alert is refused.
		old := SignAlert(origin.id, NewID(), time.Now().Add(-alertLife-time.Minute), "old")
		line[1].svc.HandleAlert(origin.id.ID, old)
		if line[1].stats.Get("alert_drop_stale") != 1 {
			t.Fatal("stale alert taken")
		}
	})
}
