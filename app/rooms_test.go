package app

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"parley/node"
)

func TestCreateJoinAndLeaveRoom(t *testing.T) {
	h := newHarness(t, fivePeers())
	r := h.u.roomsV
	test.Type(r.name, "design")
	test.Tap(r.join)
	h.waitFor("the join", func() bool { return r.joined != "" })
	var joined []string
	h.fc.snapshot(func(f *fakeCore) { joined = slices.Clone(f.joined) })
	if !slices.Equal(joined, []string{"design"}) {
		t.Fatalf("core Join calls %q", joined)
	}
	if len(r.rows) != 1 || r.rows[0].Name != "design" || !r.rows[0].Joined {
		t.Fatalf("rooms list %+v", r.rows)
	}
	if h.u.conv.room != roomID("design") || h.u.conv.header.title.Text != "# design" {
		t.Fatalf("open conversation %q titled %q", h.u.conv.room, h.u.conv.header.title.Text)
	}
	if r.name.Text != "" {
		t.Error("the room name entry was not cleared")
	}

	// Saying something goes to the room.
	test.Type(h.u.conv.composer, "hi all")
	h.u.conv.composer.TypedKey(enter())
	h.waitFor("say", func() bool { return slices.Contains(h.sent(), "#"+roomID("design")+"|hi all") })

	// Others' room messages show their names; the topic shows in the header.
	h.emit(node.RoomUpdate{Room: node.Room{ID: roomID("design"), Name: "design", Topic: "logo review",
		Members: []string{selfID, bobID}, Joined: true}})
	if !strings.Contains(h.u.conv.header.subtitle.Text, "logo review") || !strings.Contains(h.u.conv.header.subtitle.Text, "2 members") {
		t.Errorf("room subtitle %q", h.u.conv.header.subtitle.Text)
	}
	h.emit(node.RoomMessage{Room: roomID("design"), ID: "r1", From: bobID, Text: "looks good", Sent: time.Now()})
	if b := h.bubbleFor("looks good"); b == nil || b.b.name != "Bob" {
		t.Fatalf("room bubble %+v", b)
	}

	test.Tap(h.u.conv.header.leave)
	h.waitFor("the leave", func() bool { return !h.u.rooms[roomID("design")].Joined })
	var left []string
	h.fc.snapshot(func(f *fakeCore) { left = slices.Clone(f.left) })
	if !slices.Equal(left, []string{roomID("design")}) {
		t.Fatalf("core Leave calls %q", left)
	}
	if !h.u.conv.header.join.Visible() || h.u.conv.header.leave.Visible() || !h.u.conv.composer.Disabled() {
		t.Error("after leaving, the header does not offer Join or the composer is still enabled")
	}
	if !strings.HasPrefix(r.rows[0].Name, "design") || r.rows[0].Joined {
		t.Errorf("rooms list after leaving %+v", r.rows)
	}
}

func TestRoomUpdateAddsRoom(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.emit(node.RoomUpdate{Room: node.Room{ID: roomID("ops"), Name: "ops", Members: []string{bobID}}})
	if rows := h.u.roomsV.rows; len(rows) != 1 || rows[0].Name != "ops" || rows[0].Joined {
		t.Fatalf("rooms %+v", rows)
	}
	h.u.roomsV.list.Select(0)
	if h.u.conv.room != roomID("ops") || !h.u.conv.header.join.Visible() {
		t.Fatal("an unjoined room does not open with a Join button")
	}
	test.Tap(h.u.conv.header.join)
	h.waitFor("the join", func() bool { return h.u.rooms[roomID("ops")].Joined })
	if h.u.conv.composer.Disabled() {
		t.Error("composer disabled after joining")
	}
}
