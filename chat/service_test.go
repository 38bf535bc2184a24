package chat

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/identity"
	"parley/internal/hlc"
	"parley/internal/seal"
	"parley/store"
)

func TestDirectDelivery(t *testing.T) {
	n := newFakeNet(t)
	a, b := n.addNode(1, 0), n.addNode(2, 0)
	n.link(a.id.ID, b.id.ID)
	// Nothing leaves a node before it is committed there: the message before its
	// transmission, the receiver's copy before its ack.
	var mu sync.Mutex
	var frames []frame
	n.setOnSend(func(f frame) bool {
		mu.Lock()
		frames = append(frames, f)
		mu.Unlock()
		sender, receiver := a, b
		if f.from == b.id.ID {
			sender, receiver = b, a
		}
		switch f.typ {
		case TypeMessage:
			body, err := DecodeBody(f.payload)
			if err != nil {
				t.Errorf("sent message frame does not decode: %v", err)
				return true
			}
			if _, ok, _ := sender.db.GetMessage(body.ID); !ok {
				t.Error("message transmitted before it was committed")
			}
			if es, _ := sender.db.Outbox(receiver.id.ID.String()); len(es) == 0 {
				t.Error("message transmitted before its outbox entry was committed")
			}
		case TypeAck:
			ids, _ := DecodeIDs(f.payload)
			for _, id := range ids {
				if _, ok, _ := sender.db.GetMessage(id); !ok {
					t.Errorf("ack for %s sent before the receiver committed it", id)
				}
			}
		}
		return true
	})

	m := a.send(b, "hello bob")
	if m.State != store.StateSent || m.Conv != store.DirectConv(b.id.ID.String()) || m.From != a.id.ID.String() || m.To != b.id.ID.String() {
		t.Fatalf("Send returned %+v", m)
	}
	// Send returned after the commit.
	if got := a.stored(m.ID); got.Text != "hello bob" {
		t.Fatalf("stored on sender: %+v", got)
	}
	got := b.waitReceived(m.ID)
	if got.From != a.id.ID.String() || got.To != b.id.ID.String() || got.Conv != store.DirectConv(a.id.ID.String()) || got.Text != "hello bob" || got.HLC != m.HLC || got.State != store.StateReceived || got.Room != "" {
		t.Fatalf("received %+v, sent %+v", got, m)
	}
	a.waitDelivered(m.ID, b.id.ID)

	// Both histories hold it; the sender's copy is delivered and its outbox empty.
	if h := b.history(store.DirectConv(a.id.ID.String())); len(h) != 1 || h[0].ID != m.ID || h[0].State != store.StateReceived {
		t.Fatalf("receiver history %+v", h)
	}
	if h := a.history(store.DirectConv(b.id.ID.String())); len(h) != 1 || h[0].ID != m.ID || h[0].State != store.StateDelivered {
		t.Fatalf("sender history %+v", h)
	}
	if es := a.outbox(""); len(es) != 0 {
		t.Fatalf("sender outbox after ack: %+v", es)
	}
	// The receiver's clock moved past the message's timestamp.
	if b.clock.Last() <= hlc.Timestamp(m.HLC) {
		t.Fatalf("receiver clock %v not past message HLC %v", b.clock.Last(), hlc.Timestamp(m.HLC))
	}

	// A reply lands in the same conversation on both sides, ordered after.
	r := b.send(a, "hi alice")
	a.waitReceived(r.ID)
	b.waitDelivered(r.ID, a.id.ID)
	if r.HLC <= m.HLC {
		t.Fatalf("reply HLC %d not after message HLC %d", r.HLC, m.HLC)
	}
	for _, nd := range []*node{a, b} {
		peer := a
		if nd == a {
			peer = b
		}
		h := nd.history(store.DirectConv(peer.id.ID.String()))
		if len(h) != 2 || h[0].ID != m.ID || h[1].ID != r.ID {
			t.Fatalf("history on %s: %+v", nd.id.ID.Short(), h)
		}
	}
	if evs := b.ev.all(); countReceived(evs, m.ID) != 1 {
		t.Fatalf("receiver saw message %d times", countReceived(evs, m.ID))
	}
	if a.stats.Get("chat_sealed_sent")+b.stats.Get("chat_sealed_sent") != 0 {
		t.Fatal("a direct link carried sealed frames")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, f := range frames {
		if f.routed || f.typ == TypeSealed {
			t.Fatalf("frame over a direct link was routed or sealed: %+v", f)
		}
	}
}

func TestDuplicateRetransmission(t *testing.T) {
	n := newFakeNet(t)
	a, b := n.addNode(1, 0), n.addNode(2, 0)
	n.link(a.id.ID, b.id.ID)
	var mu sync.Mutex
	var msgFrame *frame
	acks := 0
	n.setOnSend(func(f frame) bool {
		mu.Lock()
		defer mu.Unlock()
		switch f.typ {
		case TypeMessage:
			msgFrame = &f
		case TypeAck:
			acks++
		}
		return true
	})
	m := a.send(b, "once")
	b.waitReceived(m.ID)
	a.waitDelivered(m.ID, b.id.ID)

	// The link re-delivers the very same frame (a retransmission whose ack was lost).
	mu.Lock()
	f := *msgFrame
	mu.Unlock()
	n.send(f)
	eventually(t, "second ack to arrive", func() bool { return a.stats.Get("chat_ack_unknown") == 1 })
	mu.Lock()
	if acks != 2 {
		t.Fatalf("%d acks sent, want 2", acks)
	}
	mu.Unlock()
	if got := b.stats.Get("chat_duplicate"); got != 1 {
		t.Fatalf("chat_duplicate = %d", got)
	}
	if got := countReceived(b.ev.all(), m.ID); got != 1 {
		t.Fatalf("Received %d times", got)
	}
	if got := countDelivered(a.ev.all(), m.ID, b.id.ID); got != 1 {
		t.Fatalf("Delivered %d times", got)
	}
	if h := b.history(store.DirectConv(a.id.ID.String())); len(h) != 1 {
		t.Fatalf("receiver history has %d messages", len(h))
	}
}

func TestOfflinePeerGetsQueuedMessage(t *testing.T) {
	n := newFakeNet(t)
	a, b := n.addNode(1, 0), n.addNode(2, 0)
	n.link(a.id.ID, b.id.ID)
	n.setOnline(b.id.ID, false)

	m := a.send(b, "are you there?")
	a.ev.wait(t, "Queued", func(evs []any) bool {
		for _, ev := range evs {
			if q, ok := ev.(Queued); ok && q.ID == m.ID && q.To == b.id.ID.String() {
				return true
			}
		}
		return false
	})
	es := a.outbox(b.id.ID.String())
	if len(es) != 1 || es[0].ID != m.ID || es[0].Kind != TypeMessage {
		t.Fatalf("outbox: %+v", es)
	}
	// Stored as queued, so reopening the history shows what the event showed.
	if got := a.stored(m.ID).State; got != store.StateQueued {
		t.Fatalf("queued message stored as %q, want %q", got, store.StateQueued)
	}

	n.setOnline(b.id.ID, true)
	a.svc.PeerReachable(b.id.ID)
	b.waitReceived(m.ID)
	a.waitDelivered(m.ID, b.id.ID)
	if es := a.outbox(""); len(es) != 0 {
		t.Fatalf("outbox after ack: %+v", es)
	}
	// Another reachability signal retransmits nothing: the outbox is empty. (The
	// first delivery may itself have raced a retransmit — the committer's own
	// attempt against PeerReachable's — which dedup absorbs; only growth counts.)
	dupsBefore := b.stats.Get("chat_duplicate")
	a.svc.PeerReachable(b.id.ID)
	// Barrier: a second message over the same ordered link.
	m2 := a.send(b, "second")
	b.waitReceived(m2.ID)
	a.waitDelivered(m2.ID, b.id.ID)
	evs := a.ev.all()
	if countReceived(b.ev.all(), m.ID) != 1 || countDelivered(evs, m.ID, b.id.ID) != 1 {
		t.Fatalf("Received %d, Delivered %d times", countReceived(b.ev.all(), m.ID), countDelivered(evs, m.ID, b.id.ID))
	}
	if d := b.stats.Get("chat_duplicate") - dupsBefore; d != 0 {
		t.Fatalf("an empty outbox retransmitted: receiver got %d duplicates", d)
	}
	queued := 0
	for _, ev := range evs {
		if _, ok := ev.(Queued); ok {
			queued++
		}
	}
	if queued != 1 {
		t.Fatalf("%d Queued events, want 1", queued)
	}
}

func TestRetryLoopRetransmitsLostMessage(t *testing.T) {
	n := newFakeNet(t)
	a, b := n.addNode(1, 10*time.Millisecond), n.addNode(2, 0)
	n.link(a.id.ID, b.id.ID)
	var mu sync.Mutex
	sent := 0
	n.setOnSend(func(f frame) bool {
		if f.typ != TypeMessage {
			return true
		}
		mu.Lock()
		defer mu.Unlock()
		sent++
		return sent > 1 // the first transmission is lost with its link
	})
	m := a.send(b, "lost once")
	b.waitReceived(m.ID)
	a.waitDelivered(m.ID, b.id.ID)
	if got := a.stats.Get("chat_retransmit"); got < 1 {
		t.Fatalf("chat_retransmit = %d", got)
	}
	if countReceived(b.ev.all(), m.ID) != 1 {
		t.Fatal("message shown more than once")
	}
}

func TestRestartResumesOutbox(t *testing.T) {
	n := newFakeNet(t)
	a, b := n.addNode(1, 0), n.addNode(2, 0)
	n.link(a.id.ID, b.id.ID)
	n.setOnline(b.id.ID, false)
	m := a.send(b, "survives restarts")
	if len(a.outbox("")) != 1 {
		t.Fatal("not queued")
	}

	a.restart()
	if a.clock.Last() < hlc.Timestamp(m.HLC) {
		t.Fatalf("restarted clock %v is behind the stored HLC %v", a.clock.Last(), hlc.Timestamp(m.HLC))
	}
	if got := a.stored(m.ID); got.Text != "survives restarts" || got.State != store.StateQueued {
		t.Fatalf("after restart: %+v", got)
	}
	n.setOnline(b.id.ID, true)
	a.svc.PeerReachable(b.id.ID)
	b.waitReceived(m.ID)
	a.waitDelivered(m.ID, b.id.ID)
	m2 := a.send(b, "barrier")
	b.waitReceived(m2.ID)
	a.waitDelivered(m2.ID, b.id.ID)
	if countReceived(b.ev.all(), m.ID) != 1 || countDelivered(a.ev.all(), m.ID, b.id.ID) != 1 {
		t.Fatal("not delivered exactly once")
	}
	if len(a.outbox("")) != 0 {
		t.Fatal("outbox not empty")
	}
	if m2.HLC <= m.HLC {
		t.Fatalf("HLC went backwards over a restart: %d then %d", m.HLC, m2.HLC)
	}
}

func TestRestartAfterLostAck(t *testing.T) {
	// The receiver committed and acked, but the ack died with the sender's process:
	// the restarted sender retransmits, the receiver shows it once and acks again.
	n := newFakeNet(t)
	a, b := n.addNode(1, 0), n.addNode(2, 0)
	n.link(a.id.ID, b.id.ID)
	lost := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	dropAcks := true
	n.setOnSend(func(f frame) bool {
		mu.Lock()
		defer mu.Unlock()
		if f.typ == TypeAck && dropAcks {
			once.Do(func() { close(lost) })
			return false
		}
		return true
	})
	m := a.send(b, "ack me")
	b.waitReceived(m.ID)
	select {
	case <-lost:
	case <-time.After(waitTimeout):
		t.Fatal("no ack sent")
	}
	a.stop()
	mu.Lock()
	dropAcks = false
	mu.Unlock()
	a.start()
	if len(a.outbox(b.id.ID.String())) != 1 {
		t.Fatal("unacked message not in the outbox after restart")
	}
	a.svc.PeerReachable(b.id.ID)
	a.waitDelivered(m.ID, b.id.ID)
	if got := b.stats.Get("chat_duplicate"); got != 1 {
		t.Fatalf("chat_duplicate = %d", got)
	}
	if countReceived(b.ev.all(), m.ID) != 1 {
		t.Fatal("retransmission shown twice")
	}
	if got := a.stored(m.ID).State; got != store.StateDelivered {
		t.Fatalf("state %q", got)
	}
}

func TestRoutedMessagesAreSealed(t *testing.T) {
	n := newFakeNet(t)
	a, b, c := n.addNode(1, 0), n.addNode(2, 0), n.addNode(3, 0)
	// A and C are not neighbours: everything between them goes through relay B.
	n.link(a.id.ID, b.id.ID)
	n.link(b.id.ID, c.id.ID)
	n.relay = b.id.ID
	const secret = "for C's eyes only"
	var mu sync.Mutex
	var envs []frame // what the relay carried
	n.setOnSend(func(f frame) bool {
		if !f.routed {
			return true
		}
		if f.typ != TypeSealed {
			t.Errorf("routed frame of type %d is not sealed", f.typ)
		}
		if bytes.Contains(f.payload, []byte(secret)) {
			t.Error("routed frame carries the plaintext")
		}
		// The relay can check who talks to whom, but cannot read.
		sender, recipient, err := seal.Inspect(f.payload)
		if err != nil || sender != f.from || recipient != f.to {
			t.Errorf("Inspect: %v→%v, %v; frame %v→%v", sender.Short(), recipient.Short(), err, f.from.Short(), f.to.Short())
		}
		if _, err := seal.Open(b.id, f.payload); !errors.Is(err, seal.ErrNotForMe) {
			t.Errorf("relay opening the envelope: %v, want ErrNotForMe", err)
		}
		mu.Lock()
		envs = append(envs, f)
		mu.Unlock()
		return true
	})

	m := a.send(c, secret)
	got := c.waitReceived(m.ID)
	if got.From != a.id.ID.String() || got.Text != secret || got.Conv != store.DirectConv(a.id.ID.String()) {
		t.Fatalf("received %+v", got)
	}
	a.waitDelivered(m.ID, c.id.ID) // the ack came back sealed too
	if a.stats.Get("chat_sealed_sent") < 1 || c.stats.Get("chat_sealed_sent") < 1 {
		t.Fatalf("sealed frames sent: A %d, C %d", a.stats.Get("chat_sealed_sent"), c.stats.Get("chat_sealed_sent"))
	}
	mu.Lock()
	var env []byte
	for _, f := range envs {
		if f.from == a.id.ID && f.to == c.id.ID {
			env = f.payload
		}
	}
	mu.Unlock()
	if env == nil {
		t.Fatal("relay saw no envelope from A to C")
	}

	// Tampering anywhere (header, ciphertext, signature) gets the frame dropped.
	for _, off := range []int{0, 5, 40, 60, 83, 90, len(env) - 70, len(env) - 1} {
		bad := bytes.Clone(env)
		bad[off] ^= 0x20
		before := c.stats.Get("chat_drop_unsealable")
		c.svc.HandleRouted(a.id.ID, b.id.ID, bad)
		if c.stats.Get("chat_drop_unsealable") != before+1 {
			t.Fatalf("envelope with byte %d flipped was not dropped", off)
		}
	}
	// Neither can the relay pass A's message off as its own: re-signing with its key
	// changes the sender key the ciphertext is bound to.
	stolen := bytes.Clone(env[:len(env)-ed25519.SignatureSize])
	copy(stolen[1:33], b.id.Public)
	stolen = append(stolen, b.id.SignContext(identity.ContextSeal, stolen)...)
	before := c.stats.Get("chat_drop_unsealable")
	c.svc.HandleRouted(b.id.ID, b.id.ID, stolen)
	if c.stats.Get("chat_drop_unsealable") != before+1 {
		t.Fatal("re-signed envelope was not dropped")
	}

	// Nor forge: B seals its own message to C but claims it comes from A.
	forgedBody := EncodeBody(Body{Kind: KindDirect, ID: NewID(time.Now()), HLC: uint64(b.clock.Now()), Sent: time.Now(), Text: "I am A, trust me"})
	forged, err := seal.Seal(b.id, c.id.Public, append([]byte{TypeMessage}, forgedBody...))
	if err != nil {
		t.Fatal(err)
	}
	c.svc.HandleRouted(a.id.ID, b.id.ID, forged)
	if c.stats.Get("chat_source_mismatch") != 1 {
		t.Fatalf("chat_source_mismatch = %d", c.stats.Get("chat_source_mismatch"))
	}
	fb, _ := DecodeBody(forgedBody)
	got = c.waitReceived(fb.ID)
	if got.From != b.id.ID.String() || got.Conv != store.DirectConv(b.id.ID.String()) {
		t.Fatalf("forged message attributed to %s in %s, want B", got.From, got.Conv)
	}

	// A replay by the relay is a duplicate.
	c.svc.HandleRouted(a.id.ID, b.id.ID, env)
	eventually(t, "replay counted", func() bool { return c.stats.Get("chat_duplicate") == 1 })

	// After all that, C shows exactly A's message and B's (as B's).
	recv := receivedOf(c.ev.all())
	if len(recv) != 2 || recv[0].ID != m.ID || recv[1].ID != fb.ID {
		t.Fatalf("C received %+v", recv)
	}
	if h := c.history(store.DirectConv(a.id.ID.String())); len(h) != 1 || h[0].ID != m.ID {
		t.Fatalf("C's conversation with A: %+v", h)
	}
}

func TestSealedFrameOverDirectLinkAttributedToSigner(t *testing.T) {
	// A sealed frame handed over by a neighbour counts as its signer's.
	n := newFakeNet(t)
	a, b := n.addNode(1, 0), n.addNode(2, 0)
	n.link(a.id.ID, b.id.ID)
	cid := testIdentity(t, 3)
	n.know(cid)
	body := EncodeBody(Body{Kind: KindDirect, ID: "sealed-1", HLC: uint64(hlc.New(time.Now().UnixMilli(), 0)), Sent: time.Now(), Text: "via B"})
	env, err := seal.Seal(cid, a.id.Public, append([]byte{TypeMessage}, body...))
	if err != nil {
		t.Fatal(err)
	}
	a.svc.HandleDirect(TypeSealed)(b.id.ID, env)
	got := a.waitReceived("sealed-1")
	if got.From != cid.ID.String() || a.stats.Get("chat_source_mismatch") != 1 {
		t.Fatalf("from %s, mismatch %d", got.From, a.stats.Get("chat_source_mismatch"))
	}
	// A sealed frame nesting another sealed frame, or garbage inside, is dropped.
	for _, plain := range [][]byte{append([]byte{TypeSealed}, env...), {}, {99, 1}} {
		inner, err := seal.Seal(cid, a.id.Public, plain)
		if err != nil {
			t.Fatal(err)
		}
		before := a.stats.Get("chat_drop_malformed")
		a.svc.HandleDirect(TypeSealed)(b.id.ID, inner)
		if a.stats.Get("chat_drop_malformed") != before+1 {
			t.Fatalf("sealed %x… not dropped as malformed", plain[:min(len(plain), 2)])
		}
	}
}

func TestMalformedFramesDropped(t *testing.T) {
	n := newFakeNet(t)
	a := n.addNode(1, 0)
	p := n.addRaw(9)
	n.link(a.id.ID, p.id.ID)
	for i, tc := range []struct {
		typ     uint8
		payload []byte
	}{
		{TypeMessage, nil},
		{TypeMessage, rawBody(3, "", "x", 1, 1, "t")},
		{TypeAck, []byte{0}},
		{TypeRead, rawIDs(1, "")},
		{99, []byte{1}},
	} {
		a.svc.HandleDirect(tc.typ)(p.id.ID, tc.payload)
		if got := a.stats.Get("chat_drop_malformed"); got != uint64(i+1) {
			t.Fatalf("frame %d: chat_drop_malformed = %d", i, got)
		}
	}
	// The peer is not cut off: a good frame still gets through and is acked.
	a.svc.HandleDirect(TypeMessage)(p.id.ID, rawBody(KindDirect, "", "good", uint64(hlc.New(time.Now().UnixMilli(), 0)), 1, "ok"))
	a.waitReceived("good")
	p.ev.wait(t, "ack", func(evs []any) bool { return len(ackedIDs(t, evs)) == 1 })
}

func TestReadReceipts(t *testing.T) {
	n := newFakeNet(t)
	a, b, c := n.addNode(1, 0), n.addNode(2, 0), n.addNode(3, 0)
	for _, x := range []*node{a, b, c} {
		for _, y := range []*node{a, b, c} {
			if x != y {
				n.link(x.id.ID, y.id.ID)
			}
		}
	}
	m1, m2, m3 := a.send(b, "one"), a.send(b, "two"), a.send(b, "three")
	for _, m := range []store.Message{m1, m2, m3} {
		b.waitReceived(m.ID)
		a.waitDelivered(m.ID, b.id.ID)
	}
	convA := store.DirectConv(a.id.ID.String())
	readBy := func(evs []any) [][]string {
		var out [][]string
		for _, ev := range evs {
			if r, ok := ev.(ReadBy); ok {
				if r.By != b.id.ID.String() {
					t.Errorf("ReadBy from %s", r.By)
				}
				out = append(out, r.IDs)
			}
		}
		return out
	}

	ids, err := b.svc.MarkRead(convA, m2.ID)
	if err != nil || len(ids) != 2 || ids[0] != m1.ID || ids[1] != m2.ID {
		t.Fatalf("MarkRead up to m2 = %v, %v", ids, err)
	}
	a.ev.wait(t, "ReadBy m1 m2", func(evs []any) bool { return len(readBy(evs)) == 1 })
	if got := readBy(a.ev.all())[0]; len(got) != 2 || got[0] != m1.ID || got[1] != m2.ID {
		t.Fatalf("ReadBy %v", got)
	}
	for _, tc := range []struct {
		nd        *node
		id, state string
		whose     string
	}{
		{a, m1.ID, store.StateRead, "sender"}, {a, m2.ID, store.StateRead, "sender"}, {a, m3.ID, store.StateDelivered, "sender"},
		{b, m1.ID, store.StateRead, "receiver"}, {b, m2.ID, store.StateRead, "receiver"}, {b, m3.ID, store.StateReceived, "receiver"},
	} {
		if got := tc.nd.stored(tc.id).State; got != tc.state {
			t.Fatalf("%s's state of %s = %q, want %q", tc.whose, tc.id, got, tc.state)
		}
	}
	// The receipt is not acknowledged: it leaves the outbox once a link took it.
	eventually(t, "receipt to leave the outbox", func() bool { return len(b.outbox("")) == 0 })

	// Nothing new to mark: no receipt.
	if ids, err := b.svc.MarkRead(convA, m2.ID); err != nil || len(ids) != 0 {
		t.Fatalf("second MarkRead = %v, %v", ids, err)
	}
	// Unknown message, or one of another conversation.
	if _, err := b.svc.MarkRead(convA, "nope"); err == nil {
		t.Fatal("MarkRead of an unknown message succeeded")
	}
	if _, err := b.svc.MarkRead(store.DirectConv(c.id.ID.String()), m3.ID); err == nil {
		t.Fatal("MarkRead of a message in another conversation succeeded")
	}

	// A third peer cannot mark A's message to B read, nor A's own messages to it.
	c.svc.transmit(a.id.ID, TypeRead, EncodeIDs([]string{m3.ID, "unknown-id"}))
	eventually(t, "foreign read receipt to be refused", func() bool { return a.stats.Get("chat_read_unknown") == 2 })
	// Nor can B mark its own messages read on A's behalf.
	r := b.send(a, "reply")
	a.waitReceived(r.ID)
	b.svc.transmit(a.id.ID, TypeRead, EncodeIDs([]string{r.ID}))
	eventually(t, "read receipt for the peer's own message refused", func() bool { return a.stats.Get("chat_read_unknown") == 3 })
	if got := a.stored(m3.ID).State; got != store.StateDelivered {
		t.Fatalf("foreign receipt changed state to %q", got)
	}

	// The rest, including m3, by an empty upTo.
	ids, err = b.svc.MarkRead(convA, "")
	if err != nil || len(ids) != 1 || ids[0] != m3.ID {
		t.Fatalf("MarkRead all = %v, %v", ids, err)
	}
	evs := a.ev.wait(t, "ReadBy m3", func(evs []any) bool { return len(readBy(evs)) == 2 })
	if got := readBy(evs); len(got) != 2 || len(got[1]) != 1 || got[1][0] != m3.ID {
		t.Fatalf("ReadBy events %v", got)
	}
	if got := a.stored(m3.ID).State; got != store.StateRead {
		t.Fatalf("m3 state %q", got)
	}
}

func TestReadReceiptWaitsForOfflinePeer(t *testing.T) {
	n := newFakeNet(t)
	a, b := n.addNode(1, 0), n.addNode(2, 0)
	n.link(a.id.ID, b.id.ID)
	m := a.send(b, "read me later")
	b.waitReceived(m.ID)
	a.waitDelivered(m.ID, b.id.ID)
	n.setOnline(a.id.ID, false)
	if ids, err := b.svc.MarkRead(store.DirectConv(a.id.ID.String()), ""); err != nil || len(ids) != 1 {
		t.Fatalf("MarkRead = %v, %v", ids, err)
	}
	es := b.outbox(a.id.ID.String())
	if len(es) != 1 || es[0].Kind != TypeRead {
		t.Fatalf("receipt not kept for the offline sender: %+v", es)
	}
	b.restart() // and it survives a restart
	n.setOnline(a.id.ID, true)
	b.svc.PeerReachable(a.id.ID)
	a.ev.wait(t, "ReadBy", func(evs []any) bool {
		for _, ev := range evs {
			if r, ok := ev.(ReadBy); ok && len(r.IDs) == 1 && r.IDs[0] == m.ID {
				return true
			}
		}
		return false
	})
	eventually(t, "receipt to leave the outbox", func() bool { return len(b.outbox("")) == 0 })
}

func TestSendRefusesBadInput(t *testing.T) {
	n := newFakeNet(t)
	a, b := n.addNode(1, 0), n.addNode(2, 0)
	n.link(a.id.ID, b.id.ID)
	for _, tc := range []struct {
		name string
		to   identity.PeerID
		text string
		is   error
	}{
		{"too long", b.id.ID, strings.Repeat("a", MaxText+1), ErrTooLong},
		{"empty", b.id.ID, "", nil},
		{"not UTF-8", b.id.ID, "a\xffb", nil},
		{"to self", a.id.ID, "hi me", nil},
	} {
		m, err := a.svc.Send(tc.to, tc.text)
		if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Fatalf("%s: Send = %+v, %v", tc.name, m, err)
		}
	}
	if _, ch := a.svc.SendAsync(b.id.ID, strings.Repeat("é", MaxText/2+1)); !errors.Is(<-ch, ErrTooLong) {
		t.Fatal("SendAsync accepted text over MaxText")
	}
	if _, ch := a.svc.SendAsync(a.id.ID, "hi me"); <-ch == nil {
		t.Fatal("SendAsync to self succeeded")
	}
	if _, err := a.svc.Say(testRoom, "nobody here"); err == nil {
		t.Fatal("Say to a room not joined succeeded")
	}
	if len(a.outbox("")) != 0 || len(a.history(store.DirectConv(b.id.ID.String()))) != 0 || len(a.history(store.DirectConv(a.id.ID.String()))) != 0 {
		t.Fatal("a refused message was stored")
	}
	// Exactly MaxText bytes is fine, and arrives.
	m := a.send(b, strings.Repeat("é", MaxText/2))
	if got := b.waitReceived(m.ID); len(got.Text) != MaxText {
		t.Fatalf("received %d bytes", len(got.Text))
	}
	// SendAsync yields the commit's outcome.
	m2, ch := a.svc.SendAsync(b.id.ID, "async")
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
	a.stored(m2.ID)
	a.waitDelivered(m2.ID, b.id.ID)
}

func TestClockDriftDoesNotLeakIntoStore(t *testing.T) {
	// A peer whose clock is an hour ahead must not drag ours along, not even across
	// a restart (the store's newest HLC seeds the clock).
	n := newFakeNet(t)
	a := n.addNode(1, 0)
	p := n.addRaw(9)
	n.link(a.id.ID, p.id.ID)
	future := hlc.New(time.Now().Add(time.Hour).UnixMilli(), 0)
	a.svc.HandleDirect(TypeMessage)(p.id.ID, rawBody(KindDirect, "", "from-the-future", uint64(future), 1, "hello from 2 pm"))
	got := a.waitReceived("from-the-future")
	if a.stats.Get("chat_clock_drift") != 1 {
		t.Fatal("drift not counted")
	}
	if hlc.Timestamp(got.HLC) >= future || a.clock.Last() >= future {
		t.Fatalf("message HLC %v, clock %v: dragged to the future %v", hlc.Timestamp(got.HLC), a.clock.Last(), future)
	}
	a.restart()
	if last, _ := a.db.LastHLC(); hlc.Timestamp(last) >= future || a.clock.Now() >= future {
		t.Fatalf("after restart: stored HLC %v, clock %v; future %v", hlc.Timestamp(last), a.clock.Last(), future)
	}
	p.ev.wait(t, "ack", func(evs []any) bool { return len(ackedIDs(t, evs)) == 1 })
}

func TestFloodingPeerDoesNotStarveOthers(t *testing.T) {
	n := newFakeNet(t)
	a := n.addNode(1, 0)
	f, g := n.addRaw(6), n.addRaw(7)
	n.link(a.id.ID, f.id.ID)
	n.link(a.id.ID, g.id.ID)
	// A's committer starts only once the flood is backed up, so G arrives while
	// F's queue is full and F is stalled on it.
	a.stop()
	run := a.startPaused()
	const flood, fair = 5000, 50
	now := uint64(hlc.New(time.Now().UnixMilli(), 0))
	frameOf := func(prefix string, i int) []byte {
		return rawBody(KindDirect, "", fmt.Sprintf("%s%05d", prefix, i), now+uint64(i), 1, "x")
	}
	floodDone := make(chan struct{})
	go func() {
		defer close(floodDone)
		h := a.svc.HandleDirect(TypeMessage)
		for i := range flood {
			h(f.id.ID, frameOf("F", i)) // one link: in order, blocks when its queue is full
		}
	}()
	eventually(t, "flood to hit backpressure", func() bool { return a.stats.Get("chat_backpressure") > 0 })
	run()
	gh := a.svc.HandleDirect(TypeMessage)
	for i := range fair {
		gh(g.id.ID, frameOf("G", i))
	}
	isG := func(m store.Message) bool { return m.From == g.id.ID.String() }
	evs := a.ev.wait(t, "G's messages", func(evs []any) bool {
		k := 0
		for _, m := range receivedOf(evs) {
			if isG(m) {
				k++
			}
		}
		return k == fair
	})
	fDone := 0
	for _, m := range receivedOf(evs) {
		if !isG(m) {
			fDone++
		}
	}
	t.Logf("all %d of G's messages committed when %d of F's %d were", fair, fDone, flood)
	if fDone >= flood {
		t.Fatalf("G's messages waited behind the whole flood")
	}
	select {
	case <-floodDone:
		t.Fatal("flood finished enqueueing before G was served: no backpressure")
	default:
	}
	<-floodDone
	evs = a.ev.wait(t, "the whole flood", func(evs []any) bool { return len(receivedOf(evs)) == flood+fair })
	lastG, lastF := -1, -1
	for i, m := range receivedOf(evs) {
		if isG(m) {
			lastG = i
		} else {
			lastF = i
		}
	}
	if lastG > lastF {
		t.Fatalf("G's last message committed at %d, after F's last at %d", lastG, lastF)
	}
	g.ev.wait(t, "G's acks", func(evs []any) bool { return len(ackedIDs(t, evs)) == fair })
	f.ev.wait(t, "F's acks", func(evs []any) bool { return len(ackedIDs(t, evs)) == flood })
}

func TestSendAsyncAfterStopYields(t *testing.T) {
	// Every SendAsync channel yields, even when the service is stopping or stopped:
	// a caller waiting on it must not hang.
	n := newFakeNet(t)
	a, b := n.addNode(1, 0), n.addNode(2, 0)
	n.link(a.id.ID, b.id.ID)
	svc := a.svc
	a.stop()
	for i := range 50 {
		_, ch := svc.SendAsync(b.id.ID, "too late")
		select {
		case err := <-ch:
			if err == nil {
				t.Fatalf("SendAsync %d after stop committed", i)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("SendAsync %d after stop never yielded", i)
		}
	}
	if _, err := svc.Send(b.id.ID, "too late"); err == nil {
		t.Fatal("Send after stop succeeded")
	}
}

func TestSendAsyncDuringStopYields(t *testing.T) {
	n := newFakeNet(t)
	a, b := n.addNode(1, 0), n.addNode(2, 0)
	n.link(a.id.ID, b.id.ID)
	n.setOnline(b.id.ID, false)
	var chans []<-chan error
	for range 3000 {
		_, ch := a.svc.SendAsync(b.id.ID, "racing the shutdown")
		chans = append(chans, ch)
	}
	a.stop()
	committed := 0
	for i, ch := range chans {
		select {
		case err := <-ch:
			if err == nil {
				committed++
			}
		case <-time.After(waitTimeout):
			t.Fatalf("SendAsync %d never yielded", i)
		}
	}
	// What was reported committed is in the store, and nothing else.
	a.start()
	if got := len(a.history(store.DirectConv(b.id.ID.String()))); got != committed {
		t.Fatalf("%d messages reported committed, %d stored", committed, got)
	}
	t.Logf("%d of %d committed before the stop", committed, len(chans))
}

func TestRetransmitBookkeepingDoesNotLeak(t *testing.T) {
	// The ack of a retransmission can be handled before Send even returns; the
	// retry bookkeeping must not outlive the outbox entry.
	n := newFakeNet(t)
	a, b := n.addNode(1, 0), n.addNode(2, 0)
	n.link(a.id.ID, b.id.ID)
	n.setOnline(b.id.ID, false)
	m := a.send(b, "ack me fast")
	a.ev.wait(t, "Queued", func(evs []any) bool { return len(evs) == 1 })
	n.setOnline(b.id.ID, true)
	n.setOnSend(func(f frame) bool {
		if f.from != a.id.ID || f.typ != TypeMessage {
			return true
		}
		// Deliver it now and hold Send until A has processed the ack.
		n.deliver(f)
		delivered := make(chan struct{})
		go func() {
			defer close(delivered)
			a.ev.wait(t, "Delivered", func(evs []any) bool { return countDelivered(evs, m.ID, b.id.ID) > 0 })
		}()
		<-delivered
		return false
	})
	a.svc.PeerReachable(b.id.ID)
	eventually(t, "retransmission to finish", func() bool { return a.stats.Get("chat_retransmit") == 1 })
	a.svc.mu.Lock()
	left := len(a.svc.lastTry)
	a.svc.mu.Unlock()
	if left != 0 || len(a.outbox("")) != 0 {
		t.Fatalf("after the ack: %d retry records, %d outbox entries", left, len(a.outbox("")))
	}
}
