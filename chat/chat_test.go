package chat

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/wire"
	"parley/store"
)

func testID(t testing.TB, n byte) identity.PeerID {
	t.Helper()
	id, err := identity.FromSeed(bytes.Repeat([]byte{n}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return id.ID
}

type sent struct {
	to      identity.PeerID
	typ     uint8
	payload []byte
}

// fakeNet records frames; check, when set, runs at send time (before recording).
type fakeNet struct {
	mu    sync.Mutex
	sent  []sent
	err   error
	check func(sent)
}

func (f *fakeNet) Send(to identity.PeerID, typ uint8, payload []byte) error {
	s := sent{to, typ, bytes.Clone(payload)}
	if f.check != nil {
		f.check(s)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, s)
	return nil
}

func (f *fakeNet) frames() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.sent...)
}

type harness struct {
	svc    *Service
	net    *fakeNet
	db     *store.DB
	stats  *counters.Set
	mu     sync.Mutex
	events []any
}

func (h *harness) emitted() []any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]any(nil), h.events...)
}

var fixedNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, self identity.PeerID) *harness {
	t.Helper()
	db, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &harness{net: &fakeNet{}, db: db, stats: &counters.Set{}}
	h.svc = &Service{
		Self: self, Net: h.net, DB: db,
		Now:   func() time.Time { return fixedNow },
		Emit:  func(ev any) { h.mu.Lock(); h.events = append(h.events, ev); h.mu.Unlock() },
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Stats: h.stats,
	}
	return h
}

func ackPayload(id string) []byte {
	var w wire.Writer
	w.Str8(id)
	return w.B
}

func TestSendStoresThenTransmits(t *testing.T) {
	alice, bob := testID(t, 1), testID(t, 2)
	h := newHarness(t, alice)
	h.net.check = func(s sent) {
		id, _, _, err := DecodeMessage(s.payload)
		if err != nil {
			t.Errorf("sent payload does not decode: %v", err)
			return
		}
		if _, ok, _ := h.db.GetMessage(id); !ok {
			t.Error("message transmitted before it was stored")
		}
	}
	id, err := h.svc.Send(bob, "hello bob")
	if err != nil {
		t.Fatal(err)
	}
	frames := h.net.frames()
	if len(frames) != 1 || frames[0].to != bob || frames[0].typ != TypeMessage {
		t.Fatalf("frames %+v", frames)
	}
	gotID, at, text, err := DecodeMessage(frames[0].payload)
	if err != nil || gotID != id || text != "hello bob" || !at.Equal(fixedNow) {
		t.Fatalf("frame decodes to %q %v %q %v", gotID, at, text, err)
	}
	m, ok, err := h.db.GetMessage(id)
	if !ok || err != nil || m.From != alice.String() || m.To != bob.String() || m.State != store.StateSent || m.Text != "hello bob" {
		t.Fatalf("stored %+v, %v, %v", m, ok, err)
	}
}

func TestSendTransportErrorKeepsMessage(t *testing.T) {
	h := newHarness(t, testID(t, 1))
	h.net.err = errors.New("no link")
	id, err := h.svc.Send(testID(t, 2), "queued")
	if err == nil || id == "" {
		t.Fatalf("Send = %q, %v; want the ID and an error", id, err)
	}
	if m, ok, _ := h.db.GetMessage(id); !ok || m.State != store.StateSent {
		t.Fatalf("message not kept for retry: %+v", m)
	}
}

func TestSendRejectsBadText(t *testing.T) {
	h := newHarness(t, testID(t, 1))
	bob := testID(t, 2)
	if _, err := h.svc.Send(bob, strings.Repeat("x", MaxText+1)); !errors.Is(err, ErrTooLong) {
		t.Fatalf("oversized text: err = %v, want ErrTooLong", err)
	}
	if _, err := h.svc.Send(bob, ""); err == nil {
		t.Fatal("empty text accepted")
	}
	if _, err := h.svc.Send(bob, "bad \xff utf-8"); err == nil {
		t.Fatal("invalid UTF-8 accepted")
	}
	if n := len(h.net.frames()); n != 0 {
		t.Fatalf("%d frames sent for rejected texts", n)
	}
	if ms, _ := h.db.Messages(bob.String(), 10); len(ms) != 0 {
		t.Fatalf("rejected texts were stored: %+v", ms)
	}
	if _, err := h.svc.Send(bob, strings.Repeat("x", MaxText)); err != nil {
		t.Fatalf("text of exactly MaxText: %v", err)
	}
}

func TestHandleMessageStoresAcksOnce(t *testing.T) {
	alice, bob := testID(t, 1), testID(t, 2)
	h := newHarness(t, alice)
	sentAt := time.UnixMilli(1_717_243_200_123)
	msg := encodeMessage(store.Message{ID: "01J0ABCDEF", Time: sentAt, Text: "hi alice"})
	h.net.check = func(s sent) {
		if _, ok, _ := h.db.GetMessage("01J0ABCDEF"); !ok {
			t.Error("acknowledged before the message was committed")
		}
	}

	h.svc.HandleMessage(bob, msg)
	frames := h.net.frames()
	if len(frames) != 1 || frames[0].to != bob || frames[0].typ != TypeAck || !bytes.Equal(frames[0].payload, ackPayload("01J0ABCDEF")) {
		t.Fatalf("ack frames %+v", frames)
	}
	evs := h.emitted()
	if len(evs) != 1 {
		t.Fatalf("events %+v", evs)
	}
	rec, ok := evs[0].(Received)
	if !ok || rec.Message.ID != "01J0ABCDEF" || rec.Message.From != bob.String() || rec.Message.To != alice.String() ||
		rec.Message.Text != "hi alice" || !rec.Message.Time.Equal(sentAt) || rec.Message.State != store.StateReceived {
		t.Fatalf("event %+v", evs[0])
	}

	// The retransmission is acknowledged again but shown once.
	h.svc.HandleMessage(bob, msg)
	if n := len(h.net.frames()); n != 2 {
		t.Fatalf("%d acks after the duplicate, want 2", n)
	}
	if n := len(h.emitted()); n != 1 {
		t.Fatalf("%d events after the duplicate, want 1", n)
	}
	if h.stats.Get("chat_duplicate") != 1 {
		t.Fatalf("chat_duplicate = %d", h.stats.Get("chat_duplicate"))
	}

	// A malformed frame is dropped without an ack.
	h.svc.HandleMessage(bob, []byte{0})
	if n := len(h.net.frames()); n != 2 || h.stats.Get("chat_drop_malformed") != 1 {
		t.Fatalf("malformed frame: %d frames, counter %d", n, h.stats.Get("chat_drop_malformed"))
	}
}

func TestHandleAck(t *testing.T) {
	alice, bob, mallory := testID(t, 1), testID(t, 2), testID(t, 3)
	h := newHarness(t, alice)
	id, err := h.svc.Send(bob, "ack me")
	if err != nil {
		t.Fatal(err)
	}

	// An ack from someone else, for an unknown ID, or malformed, changes nothing.
	h.svc.HandleAck(mallory, ackPayload(id))
	h.svc.HandleAck(bob, ackPayload("unknown"))
	h.svc.HandleAck(bob, []byte{5, 'a'})
	h.svc.HandleAck(bob, ackPayload(""))
	if m, _, _ := h.db.GetMessage(id); m.State != store.StateSent {
		t.Fatalf("state %q after bogus acks", m.State)
	}
	if len(h.emitted()) != 0 {
		t.Fatalf("events after bogus acks: %+v", h.emitted())
	}
	if h.stats.Get("chat_ack_unknown") != 2 || h.stats.Get("chat_drop_malformed") != 2 {
		t.Fatalf("counters %v", h.stats.Snapshot())
	}

	h.svc.HandleAck(bob, ackPayload(id))
	h.svc.HandleAck(bob, ackPayload(id))
	if m, _, _ := h.db.GetMessage(id); m.State != store.StateDelivered {
		t.Fatalf("state %q after the ack", m.State)
	}
	evs := h.emitted()
	if len(evs) != 1 || evs[0] != (Delivered{ID: id, To: bob.String()}) {
		t.Fatalf("events %+v, want one Delivered", evs)
	}
}

// loopNet delivers frames straight to the peer's handlers, as the overlay would.
type loopNet struct {
	from identity.PeerID
	to   map[identity.PeerID]*Service
}

func (l *loopNet) Send(to identity.PeerID, typ uint8, payload []byte) error {
	peer := l.to[to]
	if peer == nil {
		return errors.New("no link")
	}
	switch typ {
	case TypeMessage:
		peer.HandleMessage(l.from, payload)
	case TypeAck:
		peer.HandleAck(l.from, payload)
	}
	return nil
}

func TestSendDeliverAckEndToEnd(t *testing.T) {
	alice, bob := testID(t, 1), testID(t, 2)
	ha, hb := newHarness(t, alice), newHarness(t, bob)
	peers := map[identity.PeerID]*Service{alice: ha.svc, bob: hb.svc}
	ha.svc.Net = &loopNet{from: alice, to: peers}
	hb.svc.Net = &loopNet{from: bob, to: peers}

	id, err := ha.svc.Send(bob, "round trip")
	if err != nil {
		t.Fatal(err)
	}
	if evs := hb.emitted(); len(evs) != 1 || evs[0].(Received).Message.Text != "round trip" {
		t.Fatalf("bob's events %+v", evs)
	}
	if evs := ha.emitted(); len(evs) != 1 || evs[0] != (Delivered{ID: id, To: bob.String()}) {
		t.Fatalf("alice's events %+v", evs)
	}
	if m, _, _ := ha.db.GetMessage(id); m.State != store.StateDelivered {
		t.Fatalf("alice's copy is %q", m.State)
	}
	if m, ok, _ := hb.db.GetMessage(id); !ok || m.State != store.StateReceived || m.From != alice.String() {
		t.Fatalf("bob's copy %+v", m)
	}
}
