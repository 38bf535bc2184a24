package chat

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"parley/identity"
	"parley/store"
)

// meshNodes starts n nodes that are all direct neighbours.
func meshNodes(t *testing.T, count int) (*fakeNet, []*node) {
	n := newFakeNet(t)
	var nodes []*node
	for i := range count {
		nodes = append(nodes, n.addNode(byte(i+1), 0))
	}
	for _, x := range nodes {
		for _, y := range nodes {
			if x != y {
				n.link(x.id.ID, y.id.ID)
			}
		}
	}
	return n, nodes
}

// propagate gives every node the other nodes' current rooms extension, as record
// propagation over the overlay would.
func propagate(t *testing.T, nodes ...*node) {
	t.Helper()
	for _, x := range nodes {
		ads := x.rooms.Ads()
		for _, y := range nodes {
			if x != y {
				if _, err := y.rooms.UpdatePeer(x.id.ID, ads); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func peerIDs(nodes ...*node) []identity.PeerID {
	var out []identity.PeerID
	for _, nd := range nodes {
		out = append(out, nd.id.ID)
	}
	slices.SortFunc(out, func(a, b identity.PeerID) int {
		switch {
		case a.Less(b):
			return -1
		case b.Less(a):
			return 1
		}
		return 0
	})
	return out
}

func TestRooms(t *testing.T) {
	n, nodes := meshNodes(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	var mu sync.Mutex
	toC := map[string]int{} // message ID → transmissions to C
	n.setOnSend(func(f frame) bool {
		if f.to == c.id.ID && f.typ == TypeMessage {
			if body, err := DecodeBody(f.payload); err == nil {
				mu.Lock()
				toC[body.ID]++
				mu.Unlock()
			}
		}
		return true
	})

	info, err := a.rooms.Join("lobby")
	if err != nil || !validRoomID(info.ID) || !info.Joined || info.Name != "lobby" {
		t.Fatalf("Join = %+v, %v", info, err)
	}
	room := info.ID
	propagate(t, a, b, c)
	if got, ok := b.rooms.Info(room); !ok || got.Joined || got.Name != "lobby" || len(got.Members) != 1 {
		t.Fatalf("B's view of A's room before joining: %+v, %v", got, ok)
	}
	if _, err := b.rooms.Join(room); err != nil { // by ID
		t.Fatal(err)
	}
	if got, err := c.rooms.Join("lobby"); err != nil || got.ID != room { // by name: the existing room
		t.Fatalf("C joined %+v, %v; want room %s", got, err, room)
	}
	propagate(t, a, b, c)
	for _, nd := range nodes {
		if got := nd.rooms.Members(room); !slices.Equal(got, peerIDs(a, b, c)) {
			t.Fatalf("members on %s: %v", nd.id.ID.Short(), got)
		}
	}

	m := sayOK(t, a, room, "hi all")
	for _, nd := range []*node{b, c} {
		got := nd.waitReceived(m.ID)
		if got.Room != room || got.Conv != store.RoomConv(room) || got.From != a.id.ID.String() || got.To != "" || got.Text != "hi all" {
			t.Fatalf("received %+v", got)
		}
		a.waitDelivered(m.ID, nd.id.ID)
	}
	if h := a.history(store.RoomConv(room)); len(h) != 1 || h[0].ID != m.ID || h[0].State != store.StateDelivered {
		t.Fatalf("sender's room history: %+v", h)
	}

	// C leaves, but A has not heard yet: C acknowledges (so A stops retrying) and
	// drops the message.
	if _, err := c.rooms.Leave(room); err != nil {
		t.Fatal(err)
	}
	stale := sayOK(t, a, room, "stale membership")
	b.waitReceived(stale.ID)
	a.waitDelivered(stale.ID, b.id.ID)
	a.waitDelivered(stale.ID, c.id.ID)
	if got := c.stats.Get("chat_drop_not_member"); got != 1 {
		t.Fatalf("chat_drop_not_member = %d", got)
	}
	if countReceived(c.ev.all(), stale.ID) != 0 {
		t.Fatal("C shows a message of a room it left")
	}
	if _, ok, _ := c.db.GetMessage(stale.ID); ok {
		t.Fatal("C stored a message of a room it left")
	}
	if len(a.outbox("")) != 0 {
		t.Fatalf("A's outbox: %+v", a.outbox(""))
	}

	// Once A has C's new record, C is no longer written to.
	propagate(t, a, b, c)
	if got := a.rooms.Members(room); !slices.Equal(got, peerIDs(a, b)) {
		t.Fatalf("members after C left: %v", got)
	}
	after := sayOK(t, a, room, "after C left")
	b.waitReceived(after.ID)
	a.waitDelivered(after.ID, b.id.ID)
	fromB := sayOK(t, b, room, "B speaking")
	a.waitReceived(fromB.ID)
	b.waitDelivered(fromB.ID, a.id.ID)
	mu.Lock()
	if toC[after.ID]+toC[fromB.ID] != 0 {
		t.Fatalf("messages after C left were sent to C: %v", toC)
	}
	mu.Unlock()
	if len(a.outbox(c.id.ID.String())) != 0 {
		t.Fatal("A queued a message for C after C left")
	}
	if got := receivedOf(c.ev.all()); len(got) != 1 || got[0].ID != m.ID {
		t.Fatalf("C received %+v", got)
	}
	if _, err := c.svc.Say(room, "let me in"); err == nil {
		t.Fatal("Say in a room left succeeded")
	}
	// Room history is in HLC order on every member that stayed.
	for _, nd := range []*node{a, b} {
		h := nd.history(store.RoomConv(room))
		var got []string
		for _, x := range h {
			got = append(got, x.ID)
		}
		if want := []string{m.ID, stale.ID, after.ID, fromB.ID}; !slices.Equal(got, want) {
			t.Fatalf("room history on %s: %v, want %v", nd.id.ID.Short(), got, want)
		}
	}
}

func sayOK(t *testing.T, nd *node, room, text string) store.Message {
	t.Helper()
	m, err := nd.svc.Say(room, text)
	if err != nil {
		t.Fatal(err)
	}
	if m.Room != room || m.Conv != store.RoomConv(room) || m.State != store.StateSent {
		t.Fatalf("Say returned %+v", m)
	}
	return m
}

func TestRoomMemberOfflineGetsItLater(t *testing.T) {
	n, nodes := meshNodes(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	info, err := a.rooms.Join("lobby")
	if err != nil {
		t.Fatal(err)
	}
	propagate(t, a, b, c)
	for _, nd := range []*node{b, c} {
		if _, err := nd.rooms.Join(info.ID); err != nil {
			t.Fatal(err)
		}
	}
	propagate(t, a, b, c)
	n.setOnline(c.id.ID, false)
	m := sayOK(t, a, info.ID, "C is away")
	b.waitReceived(m.ID)
	a.waitDelivered(m.ID, b.id.ID)
	if es := a.outbox(""); len(es) != 1 || es[0].To != c.id.ID.String() {
		t.Fatalf("outbox: %+v", es)
	}
	n.setOnline(c.id.ID, true)
	a.svc.PeerReachable(c.id.ID)
	c.waitReceived(m.ID)
	a.waitDelivered(m.ID, c.id.ID)
	if len(a.outbox("")) != 0 {
		t.Fatal("outbox not empty")
	}
}

func TestRoomTopic(t *testing.T) {
	_, nodes := meshNodes(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	info, err := a.rooms.Join("lobby")
	if err != nil {
		t.Fatal(err)
	}
	room := info.ID
	propagate(t, a, b, c)
	if _, err := b.rooms.Join(room); err != nil {
		t.Fatal(err)
	}
	if _, err := c.rooms.SetTopic(room, "not a member"); err == nil {
		t.Fatal("SetTopic by a non-member succeeded")
	}
	oldAds := a.rooms.Ads() // A's record before the topic change

	got, err := b.rooms.SetTopic(room, "new topic")
	if err != nil || got.Topic != "new topic" {
		t.Fatalf("SetTopic = %+v, %v", got, err)
	}
	changed, err := a.rooms.UpdatePeer(b.id.ID, b.rooms.Ads())
	if err != nil || !slices.Equal(changed, []string{room}) {
		t.Fatalf("UpdatePeer = %v, %v", changed, err)
	}
	if got, _ := a.rooms.Info(room); got.Topic != "new topic" {
		t.Fatalf("A's topic %q", got.Topic)
	}
	// C hears the topic from A's newer record, not only from B's.
	if _, err := c.rooms.UpdatePeer(a.id.ID, a.rooms.Ads()); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.rooms.Info(room); got.Topic != "new topic" {
		t.Fatalf("C's topic %q", got.Topic)
	}
	// A late, older record does not bring the old topic back.
	changed, err = b.rooms.UpdatePeer(a.id.ID, oldAds)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := b.rooms.Info(room); got.Topic != "new topic" || slices.Contains(changed, room) {
		t.Fatalf("older ad overwrote the topic: %+v, changed %v", got, changed)
	}
	// A newer change wins, wherever it comes from.
	newer, err := a.rooms.SetTopic(room, "newest")
	if err != nil {
		t.Fatal(err)
	}
	propagate(t, a, b, c)
	for _, nd := range nodes {
		if got, _ := nd.rooms.Info(room); got.Topic != newer.Topic {
			t.Fatalf("topic on %s = %q", nd.id.ID.Short(), got.Topic)
		}
	}
	// Two concurrent changes: the higher HLC wins on every node, in either order.
	if _, err := a.rooms.SetTopic(room, "from A"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.rooms.SetTopic(room, "from B"); err != nil {
		t.Fatal(err)
	}
	want := "from B"
	if topicHLC(a, room) > topicHLC(b, room) {
		want = "from A"
	}
	propagate(t, b, a, c)
	for _, nd := range nodes {
		if got, _ := nd.rooms.Info(room); got.Topic != want {
			t.Fatalf("topic on %s = %q, want %q", nd.id.ID.Short(), got.Topic, want)
		}
	}

	// It is all persisted: a restart keeps membership and topic.
	b.restart()
	if got, ok := b.rooms.Info(room); !ok || !got.Joined || got.Topic != want || got.Name != "lobby" {
		t.Fatalf("after restart: %+v, %v", got, ok)
	}
}

func TestRoomsRegistry(t *testing.T) {
	_, nodes := meshNodes(t, 2)
	a, b := nodes[0], nodes[1]
	if _, err := a.rooms.Join(""); err == nil {
		t.Fatal("joined a room with an empty name")
	}
	if _, err := a.rooms.Join(string(make([]byte, maxRoomName+1))); err == nil {
		t.Fatal("joined a room with an over-long name")
	}
	if _, err := a.rooms.Leave(testRoom); !errors.Is(err, ErrUnknownRoom) {
		t.Fatalf("Leave of an unknown room: %v", err)
	}
	if _, err := a.rooms.SetTopic(testRoom, "x"); !errors.Is(err, ErrUnknownRoom) {
		t.Fatalf("SetTopic of an unknown room: %v", err)
	}
	zed, _ := a.rooms.Join("zed")
	alpha, _ := a.rooms.Join("alpha")
	if _, err := a.rooms.SetTopic(alpha.ID, string(make([]byte, maxTopic+1))); err == nil {
		t.Fatal("over-long topic accepted")
	}
	if _, err := a.rooms.Leave(zed.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.rooms.Leave(zed.ID); err == nil {
		t.Fatal("left a room twice")
	}
	propagate(t, a, b)
	// B learns only joined rooms from A's record.
	if _, ok := b.rooms.Info(zed.ID); ok {
		t.Fatal("a left room is still advertised")
	}
	var names []string
	for _, r := range a.rooms.List() {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"alpha", "zed"}) {
		t.Fatalf("List = %v (joined first)", names)
	}
	// Rejoining by name picks the existing room.
	if again, _ := a.rooms.Join("zed"); again.ID != zed.ID {
		t.Fatalf("rejoin by name made a new room %s", again.ID)
	}

	// A malformed extension is refused and changes nothing.
	before := b.rooms.Members(alpha.ID)
	if _, err := b.rooms.UpdatePeer(a.id.ID, []byte{1, 2}); err == nil {
		t.Fatal("malformed extension accepted")
	}
	if got := b.rooms.Members(alpha.ID); !slices.Equal(got, before) {
		t.Fatalf("members changed by a malformed extension: %v", got)
	}
	// A record without the extension means the peer is in no room.
	changed, err := b.rooms.UpdatePeer(a.id.ID, nil)
	if err != nil || !slices.Equal(changed, []string{alpha.ID}) {
		t.Fatalf("UpdatePeer(nil) = %v, %v", changed, err)
	}
	if got := b.rooms.Members(alpha.ID); len(got) != 0 {
		t.Fatalf("members after A's rooms vanished: %v", got)
	}
}

func topicHLC(nd *node, room string) uint64 {
	nd.rooms.mu.Lock()
	defer nd.rooms.mu.Unlock()
	return nd.rooms.local[room].TopicHLC
}

func TestRoomTopicTieConverges(t *testing.T) {
	// Two members set a topic at the same HLC (distinct clocks can issue equal
	// timestamps): every node must still settle on the same topic, whatever order
	// the records reach it in.
	_, nodes := meshNodes(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	info, err := a.rooms.Join("lobby")
	if err != nil {
		t.Fatal(err)
	}
	room := info.ID
	propagate(t, a, b, c)
	for _, nd := range []*node{b, c} {
		if _, err := nd.rooms.Join(room); err != nil {
			t.Fatal(err)
		}
	}
	const h = 1 << 50
	adX := EncodeRoomAds([]roomAd{{ID: room, Name: "lobby", Topic: "topic X", TopicHLC: h}})
	adY := EncodeRoomAds([]roomAd{{ID: room, Name: "lobby", Topic: "topic Y", TopicHLC: h}})
	px, py := testIdentity(t, 50).ID, testIdentity(t, 51).ID
	for _, step := range []struct {
		nd            *node
		first, second []byte
	}{{a, adX, adY}, {b, adY, adX}} {
		if _, err := step.nd.rooms.UpdatePeer(px, step.first); err != nil {
			t.Fatal(err)
		}
		if _, err := step.nd.rooms.UpdatePeer(py, step.second); err != nil {
			t.Fatal(err)
		}
	}
	ta, _ := a.rooms.Info(room)
	tb, _ := b.rooms.Info(room)
	if ta.Topic != tb.Topic {
		t.Fatalf("equal-HLC topics diverge: A has %q, B has %q", ta.Topic, tb.Topic)
	}
}
