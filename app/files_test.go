package app

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
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
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// An incoming offer shows a card with name, size, type and sender; Accept and
// Decline call the core; in the background a notification says who offers what.
func TestFileOfferAcceptAndDecline(t *testing.T) {
	h, ff, _ := fileHarness(t, fivePeers())
	h.openPeer(bobID)
	h.emit(node.FileOffer{ID: "f1", Name: "floor-plan.pdf", Size: 2_400_000, Type: "application/pdf", From: bobID})
	c := h.card("f1")
	for _, want := range []string{"From Bob", "2.4 MB", "PDF document"} {
		if !strings.Contains(c.detail.Text, want) {
			t.Errorf("offer card %q lacks %q", c.detail.Text, want)
		}
	}
	if c.title.Text != "floor-plan.pdf" || !c.accept.Visible() || !c.decline.Visible() || c.cancel.Visible() {
		t.Fatalf("offer card: title %q accept=%v decline=%v cancel=%v", c.title.Text, c.accept.Visible(),
			c.decline.Visible(), c.cancel.Visible())
	}
	if len(h.notes) != 0 {
		t.Errorf("notified while focused: %q", h.notes)
	}
	test.Tap(c.accept)
	h.waitFileOps(ff, "accept|f1")
	h.waitFor("the download to start", func() bool { return h.u.transfers["f1"].state == xferActive && !c.accept.Visible() })
	if !c.cancel.Visible() {
		t.Error("no Cancel on an accepted download")
	}

	h.emit(node.FileOffer{ID: "elsewhere", Name: "a.txt", Size: 3, From: aliceID})
	if len(h.notes) != 1 || !strings.Contains(h.notes[0], "alice offers a file") {
		t.Errorf("an offer in a conversation that is not open: notifications %q", h.notes)
	}
	if _, shown := h.u.strip.cards["elsewhere"]; shown {
		t.Error("alice's offer shows in Bob's conversation")
	}
	h.notes = nil
	h.u.setFocused(false)
	h.emit(node.FileOffer{ID: "f2", Name: "notes.txt", Size: 812, Type: "text/plain", From: bobID})
	if len(h.notes) != 1 || !strings.Contains(h.notes[0], "Bob offers a file") || !strings.Contains(h.notes[0], "notes.txt (812 bytes)") {
		t.Errorf("notifications %q", h.notes)
	}
	test.Tap(h.card("f2").decline)
	h.waitFileOps(ff, "accept|f1", "decline|f2")
	h.waitFor("the declined card", func() bool { return h.card("f2").detail.Text == "You declined it" })
	if c2 := h.card("f2"); c2.accept.Visible() || !c2.dismiss.Visible() {
		t.Error("a declined offer still offers Accept, or cannot be dismissed")
	}
	test.Tap(h.card("f2").dismiss)
	if _, ok := h.u.strip.cards["f2"]; ok {
		t.Error("dismissing left the card")
	}
}

// Progress moves the bar and says how much, how fast and how long; done
// offers Open and Show in folder (file:// URLs of the file and its folder);
// failed says why in plain words. Cards survive switching conversations.
func TestFileProgressDoneAndFailed(t *testing.T) {
	h, ff, opened := fileHarness(t, fivePeers())
	h.openPeer(bobID)
	h.emit(node.FileOffer{ID: "f1", Name: "plan.pdf", Size: 2_400_000, Type: "application/pdf", From: bobID})
	test.Tap(h.card("f1").accept)
	h.waitFileOps(ff, "accept|f1")

	h.emit(node.FileProgress{ID: "f1", Bytes: 1_200_000, Total: 2_400_000, Rate: 600_000})
	c := h.card("f1")
	if !c.bar.Visible() || c.bar.Value != 0.5 {
		t.Errorf("bar visible=%v value=%v", c.bar.Visible(), c.bar.Value)
	}
	for _, want := range []string{"1.2 MB of 2.4 MB", "600 kB/s", "2 s left"} {
		if !strings.Contains(c.detail.Text, want) {
			t.Errorf("progress %q lacks %q", c.detail.Text, want)
		}
	}
	h.emit(node.FileProgress{ID: "f1", Bytes: 1_800_000, Total: 2_400_000, Rate: 600_000})
	if c.bar.Value != 0.75 || !strings.Contains(c.detail.Text, "1.8 MB of 2.4 MB") {
		t.Errorf("second progress: %v %q", c.bar.Value, c.detail.Text)
	}

	// Another conversation shows none of Bob's files; back at Bob's, they are there.
	h.openPeer(aliceID)
	if len(h.u.strip.cards) != 0 || h.u.strip.scroll.Visible() {
		t.Errorf("alice's conversation shows cards %v", keys(h.u.strip.cards))
	}
	h.emit(node.FileDone{ID: "f1", Path: osPath("home", "me", "Downloads", "plan.pdf")})
	h.openPeer(bobID)
	c = h.card("f1")
	if !c.open.Visible() || !c.folder.Visible() || c.bar.Visible() || c.cancel.Visible() {
		t.Fatalf("done card: open=%v folder=%v bar=%v cancel=%v", c.open.Visible(), c.folder.Visible(),
			c.bar.Visible(), c.cancel.Visible())
	}
	test.Tap(c.open)
	test.Tap(c.folder)
	want := []string{osURL("home", "me", "Downloads", "plan.pdf"), osURL("home", "me", "Downloads")}
	if !slices.Equal(*opened, want) {
		t.Errorf("opened %q, want %q", *opened, want)
	}

	h.emit(node.FileOffer{ID: "f3", Name: "video.mp4", Size: 9_000_000_000, From: bobID})
	h.emit(node.FileFailed{ID: "f3", Reason: "write: no space left on device"})
	if d := h.card("f3").detail.Text; !strings.Contains(d, "Could not save it") || !strings.Contains(d, "no space left") {
		t.Errorf("failed card %q", d)
	}
	h.emit(node.FileOffer{ID: "f4", Name: "x.bin", Size: 10, From: bobID})
	h.emit(node.FileFailed{ID: "f4", Reason: "cancelled by the sender"})
	if d := h.card("f4").detail.Text; d != "Bob withdrew the offer" {
		t.Errorf("withdrawn card %q", d)
	}
}

// Files dropped onto the window go to the open conversation: a peer, then a room.
func TestDropSendsToOpenConversation(t *testing.T) {
	fc := fivePeers()
	room := roomID("site")
	fc.rooms[room] = node.Room{ID: room, Name: "site", Joined: true, Members: []string{selfID, bobID}}
	h, ff, _ := fileHarness(t, fc)
	h.u.dropped([]fyne.URI{storage.NewFileURI("/tmp/a.txt"), storage.NewFileURI("/tmp/b.png")})
	h.pump()
	if ops := ff.fileOps(); len(ops) != 0 {
		t.Fatalf("a drop with no conversation open sent %v", ops)
	}
	h.u.escape() // the "open a conversation first" message

	h.openPeer(bobID)
	h.u.dropped([]fyne.URI{storage.NewFileURI("/tmp/a.txt"), storage.NewFileURI("/tmp/b.png")})
	h.waitFileOps(ff, "send|"+bobID+"||/tmp/a.txt,/tmp/b.png")
	h.waitFor("the offers' cards", func() bool { return len(h.u.strip.cards) == 2 && h.u.strip.cards["file-2"] != nil })
	if d := h.card("file-1").detail.Text; !strings.Contains(d, "To Bob") || !strings.Contains(d, "waiting for Bob to accept") {
		t.Errorf("outgoing card %q", d)
	}
	if !h.card("file-1").cancel.Visible() {
		t.Error("an outgoing offer cannot be withdrawn")
	}

	h.u.openRoom(room)
	h.u.dropped([]fyne.URI{storage.NewFileURI("/tmp/c.jpg")})
	h.waitFileOps(ff, "send|"+bobID+"||/tmp/a.txt,/tmp/b.png", "send||"+room+"|/tmp/c.jpg")
	h.waitFor("the room's card", func() bool { return h.u.strip.cards["file-3"] != nil })
	if d := h.card("file-3").detail.Text; !strings.Contains(d, "Offered to #site") {
		t.Errorf("room card %q", d)
	}
}

// A SendFile that fails turns the "preparing" card into a failed one that
// says why, without the command's prefix.
func TestSendFileFailureSaysWhy(t *testing.T) {
	h, ff, _ := fileHarness(t, fivePeers())
	ff.sendErr = errors.New("send file: open /tmp/gone.txt: no such file or directory")
	h.openPeer(bobID)
	h.u.dropped([]fyne.URI{storage.NewFileURI("/tmp/gone.txt")})
	h.waitFor("the failed card", func() bool {
		for _, c := range h.u.strip.cards {
			return c.t.state == xferFailed
		}
		return false
	})
	for _, c := range h.u.strip.cards {
		if c.detail.Text != "Could not offer it: open /tmp/gone.txt: no such file or directory" || !c.dismiss.Visible() {
			t.Errorf("failed card %q, dismiss=%v", c.detail.Text, c.dismiss.Visible())
		}
	}
}

// A received picture gets a small thumbnail, decoded in the background.
func TestDoneImageGetsThumbnail(t *testing.T) {
	h, _, _ := fileHarness(t, fivePeers())
	path := filepath.Join(t.TempDir(), "photo.png")
	writePNG(t, path, 640, 320)
	h.openPeer(bobID)
	h.emit(node.FileOffer{ID: "img", Name: "photo.png", Size: 4000, Type: "image/png", From: bobID})
	h.emit(node.FileDone{ID: "img", Path: path})
	h.waitFor("the thumbnail", func() bool { return h.card("img").thumb.Visible() })
	b := h.card("img").thumb.Image.Bounds()
	if b.Dx() != thumbSide || b.Dy() != thumbSide/2 {
		t.Errorf("thumbnail is %v, want %d×%d", b, thumbSide, thumbSide/2)
	}
}

func TestThumbnailRefusesHugePictures(t *testing.T) {
	// A PNG whose header declares 8000×6000 (48 Mpixel, over the limit) in a
	// few bytes: only the header may be read.
	ihdr := []byte("IHDR\x00\x00\x1f\x40\x00\x00\x17\x70\x08\x06\x00\x00\x00")
	data := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d"), ihdr...)
	data = binary.BigEndian.AppendUint32(data, crc32.ChecksumIEEE(ihdr))
	path := filepath.Join(t.TempDir(), "big.png")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width != 8000 {
		t.Fatalf("the crafted header does not parse: %v %+v", err, cfg)
	}
	if _, err := thumbnail(path); err == nil || !strings.Contains(err.Error(), "too many pixels") {
		t.Error("a 48-megapixel picture was decoded for a thumbnail")
	}
}

func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x += 7 {
		img.Set(x, x%h, color.NRGBA{R: 200, A: 255})
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// Transfers the core already had (an open offer, a download under way) show
// when the window opens.
func TestTransfersAdoptedAtStart(t *testing.T) {
	test.NewTempApp(t)
	ff := &fileFake{fakeCore: fivePeers(), list: []node.Transfer{
		{ID: "old", Name: "done.txt", State: node.TransferDone, Peer: bobID},
		{ID: "open", Name: "offer.txt", Size: 10, State: node.TransferOffered, Peer: bobID},
	}}
	h := newHarnessFor(t, ff)
	h.openPeer(bobID)
	if _, ok := h.u.strip.cards["old"]; ok {
		t.Error("a finished transfer from before came back as a card")
	}
	if c := h.card("open"); !c.accept.Visible() {
		t.Error("the open offer has no Accept")
	}
}

func TestFileWords(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 bytes", 1: "1 byte", 999: "999 bytes", 1500: "1.5 kB",
		2_400_000: "2.4 MB", 45_000_000: "45 MB", 3_000_000_000: "3.0 GB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
	if got := timeLeft(0, 90_000_000, 1_000_000); got != "1 min 30 s left" {
		t.Errorf("timeLeft %q", got)
	}
	if got := timeLeft(10, 100, 0); got != "" {
		t.Errorf("timeLeft without a rate %q", got)
	}
	out := &transfer{out: true}
	if got := failureText(out, "declined", "Bob"); got != "Bob declined the file" {
		t.Errorf("declined: %q", got)
	}
	if got := kindText("image/png"); got != "PNG image" {
		t.Errorf("kindText %q", got)
	}
}

// A transfer the window never saw start (sent by a script through the control
// socket) is looked up in the core's list on its first event; once its card
// is dismissed, later events about it leave it closed.
func TestUnknownTransferIsLookedUp(t *testing.T) {
	h, ff, _ := fileHarness(t, fivePeers())
	h.openPeer(bobID)
	ff.fmu.Lock()
	ff.list = append(ff.list, node.Transfer{ID: "ext", Out: true, Name: "script.txt", Size: 4000, Peer: bobID,
		State: node.TransferActive})
	ff.fmu.Unlock()
	h.emit(node.FileProgress{ID: "ext", Bytes: 1000, Total: 4000, Out: true})
	h.waitFor("the looked-up card", func() bool { return h.u.strip.cards["ext"] != nil })
	h.emit(node.FileDone{ID: "ext", Out: true, Path: "/home/me/script.txt"})
	if d := h.card("ext").detail.Text; d != "Bob has it" {
		t.Errorf("done outgoing card %q", d)
	}
	test.Tap(h.card("ext").dismiss)
	h.emit(node.FileDone{ID: "ext", Out: true, Path: "/home/me/script.txt"})
	h.pump()
	time.Sleep(50 * time.Millisecond)
	h.pump()
	if _, ok := h.u.strip.cards["ext"]; ok {
		t.Error("a dismissed card came back")
	}
}

// The settings dialog turns auto-accept from verified peers on; an offer the core
// accepted by itself shows as a download under way, with no Accept or Decline,
// and its notification says it is being received.
func TestAutoAcceptSettingAndAutoAcceptedOffer(t *testing.T) {
	h, ff, _ := fileHarness(t, fivePeers())
	findCheck := func() *widget.Check {
		h.u.showSettings()
		var check *widget.Check
		h.waitFor("the file setting", func() bool {
			h.everything(func(o fyne.CanvasObject) {
				if c, ok := o.(*widget.Check); ok && strings.HasPrefix(c.Text, "Accept files from verified peers") && !c.Disabled() {
					check = c
				}
			})
			return check != nil
		})
		return check
	}
	if findCheck().Checked {
		t.Fatal("auto-accept shown on although the core has it off")
	}
	test.Tap(h.button("Save"))
	findCheck().SetChecked(true)
	test.Tap(h.button("Save"))
	h.waitFileOps(ff, "auto|true") // the unchanged first Save did not call the core

	h.openPeer(bobID)
	h.u.setFocused(false)
	h.emit(node.FileOffer{ID: "a1", Name: "agenda.pdf", Size: 40_000, Type: "application/pdf", From: bobID, Auto: true})
	c := h.card("a1")
	if c.accept.Visible() || c.decline.Visible() || !c.cancel.Visible() {
		t.Errorf("auto-accepted offer: accept=%v decline=%v cancel=%v", c.accept.Visible(), c.decline.Visible(), c.cancel.Visible())
	}
	if len(h.notes) != 1 || !strings.Contains(h.notes[0], "receiving") {
		t.Errorf("notifications %q", h.notes)
	}
	if ops := ff.fileOps(); slices.Contains(ops, "accept|a1") {
		t.Errorf("the window accepted an offer the core had accepted: %q", ops)
	}
}

// A conversation read at its newest message stays there when an offer card
// takes room from it.
func TestOfferCardKeepsNewestMessageInView(t *testing.T) {
	fc := fivePeers()
	bobHistory(fc)
	h, _, _ := fileHarness(t, fc)
	h.openPeer(bobID)
	if !h.u.conv.atBottom() {
		t.Fatal("the conversation did not open at its newest message")
	}
	h.emit(node.FileOffer{ID: "f1", Name: "plan.pdf", Size: 1000, From: bobID})
	h.emit(node.FileOffer{ID: "f2", Name: "photo.jpg", Size: 2000, From: bobID})
	h.pump()
	if !h.u.conv.atBottom() {
		t.Errorf("the offer cards pushed the newest message out of view (offset %v of %v, view %v)",
			h.u.conv.list.GetScrollOffset(), h.u.conv.contentHeight(), h.u.conv.list.Size().Height)
	}
	if h.bubbleFor("bob message 119") == nil {
		t.Error("the newest message is not shown")
	}
}
