package app

import (
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"parley/node"
)

var update = flag.Bool("update", false, "write app/testdata screenshots")

// variantTheme is the default theme in a fixed variant (light or dark).
type variantTheme struct {
	fyne.Theme
	v fyne.ThemeVariant
}

func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.v)
}

// demoCore is a fake core with a few peers, a conversation and a room.
func demoCore() *fakeCore {
	fc := newFakeCore(
		peer(aliceID, "Alice", "available", "reviewing the floor plan"),
		peer(bobID, "Bob", "away", "at lunch"),
		peer(carolID, "Carol", "offline", ""),
		peer(daveID, "Dave", "busy", "on a call"),
		peer(eveID, "Eve", "available", ""),
		peer(mkID("alice-impostor"), "Alice", "available", ""),
	)
	fc.self.Name = "Sam"
	y := time.Now().AddDate(0, 0, -1)
	at := func(d time.Time, h, m int) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, time.Local)
	}
	today := time.Now()
	conv := node.DirectConv(aliceID)
	add := func(id, from, text string, t time.Time, state string) {
		to := selfID
		if from == selfID {
			to = aliceID
		}
		fc.addHistory(conv, node.Message{ID: id, Conv: conv, From: from, To: to, Text: text, Time: t, State: state})
	}
	add("d1", aliceID, "Are we still on for the site visit tomorrow?", at(y, 16, 2), node.StateRead)
	add("d2", selfID, "Yes — 9:30 at the north entrance. I'll bring the radios.", at(y, 16, 5), node.StateRead)
	add("d3", aliceID, "Great. The Wi-Fi there has no internet, so Parley is our only channel.", at(y, 16, 6), node.StateRead)
	add("d4", aliceID, "Morning! I'm at the gate.", at(today, 9, 24), node.StateRead)
	add("d5", selfID, "Two minutes away.\nParking at the back.", at(today, 9, 26), node.StateRead)
	add("d6", selfID, "Found you 👋", at(today, 9, 31), node.StateDelivered)
	room := roomID("site-team")
	fc.rooms[room] = node.Room{ID: room, Name: "site-team", Topic: "Visit on Thursday — bring ID badges",
		Members: []string{selfID, aliceID, bobID, daveID}, Joined: true}
	fc.rooms[roomID("lunch")] = node.Room{ID: roomID("lunch"), Name: "lunch", Members: []string{bobID}}
	rc := node.RoomConv(room)
	for i, m := range []struct{ from, text string }{
		{daveID, "Badges are at reception."},
		{bobID, "I'll be 10 minutes late — start without me."},
		{aliceID, "Room 2.14 is free for the debrief."},
		{selfID, "Booked it until noon."},
	} {
		fc.addHistory(rc, node.Message{ID: "r" + itoa3(i), Conv: rc, From: m.from, Room: room, Text: m.text,
			Time: at(today, 10, 2+3*i), State: node.StateSent})
	}
	return fc
}

// demoFake has calls and files: the call fake with the file fake's commands.
type demoFake struct {
	*callFake
	ff *fileFake
}

func (d demoFake) SendFile(to, room string, paths ...string) ([]string, error) {
	return d.ff.SendFile(to, room, paths...)
}
func (d demoFake) AcceptFile(id string) error  { return d.ff.AcceptFile(id) }
func (d demoFake) DeclineFile(id string) error { return d.ff.DeclineFile(id) }
func (d demoFake) CancelFile(id string) error  { return d.ff.CancelFile(id) }
func (d demoFake) Transfers() []node.Transfer  { return d.ff.Transfers() }
func (d demoFake) Search(q string, limit int) ([]node.Message, error) {
	return (&searchFake{fakeCore: d.callFake.fakeCore}).Search(q, limit)
}

// TestScreenshot renders the main window (1000×650) with the software painter. With
// -update or PARLEY_SCREENSHOTS=1 it writes app/testdata/main.png (light),
// app/testdata/chats.png (dark, the chat list with a room open),
// app/testdata/conversation.png (dark, a room), app/testdata/incoming.png (light,
// a group call ringing), app/testdata/call.png (dark, the in-call bar),
// app/testdata/files.png (light, a download under way and an incoming offer) and
// app/testdata/verify.png (dark, a verified peer's details), app/testdata/search.png
// (light, search results and the conversation opened at one) and
// app/testdata/firstrun.png (dark, the first run's welcome) for the README.
func TestScreenshot(t *testing.T) {
	write := *update || os.Getenv("PARLEY_SCREENSHOTS") == "1"
	test.NewTempApp(t)
	fc := demoCore()
	cf := newCallFake(fc)
	h := newHarnessFor(t, demoFake{cf, &fileFake{fakeCore: fc}})
	h.emit(node.MessageReceived{ID: "u1", From: bobID, Text: "Back in 5", Sent: time.Now()})
	h.emit(node.MessageReceived{ID: "u2", From: bobID, Text: "Where are you?", Sent: time.Now()})

	shots := []struct {
		file    string
		variant fyne.ThemeVariant
		open    func()
	}{
		{"main.png", theme.VariantLight, func() { h.openPeer(aliceID) }},
		{"chats.png", theme.VariantDark, func() {
			h.u.selectTab(tabChats)
			h.u.openRoom(roomID("site-team"))
			h.waitFor("the room history", func() bool { return len(h.u.conv.msgs) == 4 })
			if len(h.u.chats.rows) < 3 {
				t.Fatalf("chats.png: chats %v", h.chatRows())
			}
		}},
		{"conversation.png", theme.VariantDark, func() {
			h.u.tabs.SelectIndex(tabRooms)
			h.u.openRoom(roomID("site-team"))
			h.waitFor("the room history", func() bool { return len(h.u.conv.msgs) == 4 })
		}},
		{"incoming.png", theme.VariantLight, func() {
			h.u.tabs.SelectIndex(tabPeople)
			h.openPeer(aliceID)
			h.emit(node.CallState{Call: "ring", Peer: daveID, State: callIncoming})
			h.emit(node.CallIncoming{Call: "ring", From: daveID, Name: "Dave",
				Participants: []string{daveID, aliceID, selfID, eveID}})
			if !h.u.ring.obj.Visible() {
				t.Fatal("incoming.png: no ring card")
			}
		}},
		{"call.png", theme.VariantDark, func() {
			h.emit(node.CallState{Call: "ring", Peer: daveID, State: callEnded, Reason: "cancelled"})
			h.u.callBar.clearEnded()
			test.Tap(h.tipButton("Call"))
			h.waitFor("the call's ID", func() bool { return h.u.call != nil && h.u.call.id != "" })
			id := h.u.call.id
			h.emit(node.CallState{Call: id, Peer: aliceID, State: callActive, Outgoing: true})
			h.u.call.since = time.Now().Add(-(4*time.Minute + 37*time.Second))
			h.emit(node.CallStats{Call: id, Peer: aliceID, RTTms: 23, Loss: 0.004, JitterMs: 3, Codec: "opus",
				Relay: eveID, RelayName: "Eve", Path: "relay/relay", Level: 0.08})
			if bar := h.u.callBar; !bar.live.Visible() || bar.state.Text != "04:37" {
				t.Fatalf("call.png: bar shows %q", bar.state.Text)
			}
		}},
		{"files.png", theme.VariantLight, func() {
			h.emit(node.CallState{Call: h.u.call.id, Peer: aliceID, State: callEnded, Reason: "hangup", Outgoing: true})
			h.u.callBar.clearEnded()
			h.emit(node.FileOffer{ID: "survey", Name: "site-survey-north-entrance.pdf", Size: 4_800_000,
				Type: "application/pdf", From: aliceID})
			test.Tap(h.card("survey").accept)
			h.waitFor("the download", func() bool { return h.u.transfers["survey"].state == xferActive })
			h.emit(node.FileProgress{ID: "survey", Bytes: 3_100_000, Total: 4_800_000, Rate: 850_000})
			h.emit(node.FileOffer{ID: "photos", Name: "gate-photos.zip", Size: 48_200_000, Type: "application/zip",
				From: aliceID})
			if len(h.u.strip.cards) != 2 {
				t.Fatalf("files.png: cards %v", keys(h.u.strip.cards))
			}
		}},
		{"verify.png", theme.VariantDark, func() {
			h.u.showPeerDetails(aliceID)
			test.Tap(h.u.details.verified)
			h.waitFor("Alice verified", func() bool { return h.u.peers[aliceID].Verified })
			h.waitFor("link figures", func() bool { return h.u.details.linksLoaded })
		}},
		{"search.png", theme.VariantLight, func() {
			h.u.escape()
			h.u.focusSearch()
			test.Type(h.u.search.entry, "the")
			h.waitFor("the results", func() bool { return len(h.u.search.results) >= 5 })
			i := slices.IndexFunc(h.u.search.results, func(m node.Message) bool { return strings.Contains(m.Text, "debrief") })
			h.u.search.list.Select(i)
			h.waitFor("the room at the message", func() bool {
				return h.u.conv.room == roomID("site-team") && !h.u.conv.loading && h.u.conv.target == ""
			})
		}},
		{"firstrun.png", theme.VariantDark, func() {
			h.u.askName("Sam Rivera")
		}},
	}
	for _, s := range shots {
		fyne.CurrentApp().Settings().SetTheme(variantTheme{theme.DefaultTheme(), s.variant})
		s.open()
		h.pump()
		h.win.Resize(fyne.NewSize(1000, 650))
		img := h.win.Canvas().Capture()
		if b := img.Bounds(); b.Dx() != 1000 || b.Dy() != 650 {
			t.Errorf("%s: captured %v", s.file, b)
		}
		if n := distinctColours(img); n < 50 {
			t.Errorf("%s: only %d distinct colours — blank render?", s.file, n)
		}
		if write {
			path := filepath.Join("testdata", s.file)
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", path)
		}
	}
}

func distinctColours(img image.Image) int {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}] = true
		}
	}
	return len(seen)
}
