package app

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"parley/node"
)

// timelineRows are the open conversation's entries as "text" or "file:name|state".
func (h *harness) timelineRows() []string {
	var out []string
	for _, m := range h.u.conv.msgs {
		if id, ok := isFile(m); ok {
			out = append(out, "file:"+h.u.xferLog[id].name+"|"+h.u.xferLog[id].state)
			continue
		}
		out = append(out, m.Text)
	}
	return out
}

// fileRow finds the drawn row of a file's entry.
func (h *harness) fileRow(id string) *convRow {
	for _, r := range h.convRows() {
		if r.kind == kindMsg && r.b.file == id {
			return r
		}
	}
	return nil
}

// TestFilesInTimelineAfterRestart: a window opened on a core that already
// sent and received files (as after a restart) shows them among the messages
// at their times, with Open and Show in folder; no cards for finished ones.
func TestFilesInTimelineAfterRestart(t *testing.T) {
	test.NewTempApp(t)
	now := time.Now()
	fc := fivePeers()
	conv := node.DirectConv(aliceID)
	fc.addHistory(conv,
		node.Message{ID: "m1", Conv: conv, From: aliceID, To: selfID, Text: "sending the plan", Time: now.Add(-3 * time.Hour), State: node.StateRead},
		node.Message{ID: "m2", Conv: conv, From: selfID, To: aliceID, Text: "got it, here is mine", Time: now.Add(-2 * time.Hour), State: node.StateRead})
	ff := &fileFake{fakeCore: fc, list: []node.Transfer{
		{ID: "in-1", Name: "plan.pdf", Size: 48_000, State: node.TransferDone, Peer: aliceID,
			Path: osPath("home", "me", "Downloads", "plan.pdf"), Time: now.Add(-150 * time.Minute)},
		{ID: "out-1", Out: true, Name: "mine.odt", Size: 2_000, State: node.TransferDone, Peer: aliceID,
			Path: "/home/me/mine.odt", Time: now.Add(-time.Hour)},
		{ID: "other", Name: "x.txt", State: node.TransferDone, Peer: bobID, Path: "/tmp/x.txt", Time: now},
	}}
	h := newHarnessFor(t, ff)
	var opened []string
	h.u.openURL = func(l *url.URL) error { opened = append(opened, l.String()); return nil }

	if len(h.u.transfers) != 0 {
		t.Fatalf("finished transfers got cards: %v", keys(h.u.transfers))
	}
	h.openPeer(aliceID)
	want := []string{"sending the plan", "file:plan.pdf|done", "got it, here is mine", "file:mine.odt|done"}
	if got := h.timelineRows(); !slices.Equal(got, want) {
		t.Fatalf("timeline %q, want %q", got, want)
	}
	h.pump()
	in := h.fileRow("in-1")
	if in == nil || in.b.own || !in.b.canOpen || in.b.lines[0] != "📎 plan.pdf" {
		t.Fatalf("received file's row: %+v", in)
	}
	if out := h.fileRow("out-1"); out == nil || !out.b.own {
		t.Fatalf("sent file's row: %+v", out)
	}
	in.Tapped(&fyne.PointEvent{})
	h.u.fileAction("in-1", true)
	if w := []string{osURL("home", "me", "Downloads", "plan.pdf"), osURL("home", "me", "Downloads")}; !slices.Equal(opened, w) {
		t.Fatalf("opened %q, want %q", opened, w)
	}
	// The chat list previews the newest entry, a file here.
	if got := h.u.chats.preview(h.u.chats.rows[h.u.chats.index(conv)]); got != "You: 📎 mine.odt" {
		t.Errorf("chat preview %q", got)
	}
}

// A file offered while its conversation is open joins the timeline at once,
// and its entry follows the transfer until the file is saved.
func TestFileJoinsTimelineLive(t *testing.T) {
	h, _, opened := fileHarness(t, fivePeers())
	h.openPeer(aliceID)
	h.emit(node.FileOffer{ID: "f1", Name: "photo.jpg", Size: 1000, Type: "image/jpeg", From: aliceID})
	if got := h.timelineRows(); !slices.Equal(got, []string{"file:photo.jpg|offered"}) {
		t.Fatalf("timeline %q", got)
	}
	h.pump()
	if r := h.fileRow("f1"); r == nil || r.b.canOpen {
		t.Fatalf("an offered file's row is openable or missing: %+v", r)
	}
	r := h.fileRow("f1")
	r.Tapped(&fyne.PointEvent{})
	if len(*opened) != 0 {
		t.Fatal("tapping an offer opened something")
	}
	h.emit(node.FileDone{ID: "f1", Path: "/home/me/Downloads/photo.jpg"})
	h.pump()
	if r := h.fileRow("f1"); r == nil || !r.b.canOpen || !contains(r.b.lines[1], "saved") {
		t.Fatalf("the saved file's row: %+v", r)
	}
	// Dismissing the card leaves the timeline entry.
	h.u.dismiss(h.u.transfers["f1"])
	h.openPeer(bobID)
	h.openPeer(aliceID)
	if got := h.timelineRows(); !slices.Equal(got, []string{"file:photo.jpg|done"}) {
		t.Fatalf("after dismissing the card and reopening: %q", got)
	}
}

func TestIsFileNeedsBothMarks(t *testing.T) {
	if _, ok := isFile(node.Message{ID: fileIDMark + "x", State: node.StateReceived}); ok {
		t.Error("a received message with a file-like ID counts as a file")
	}
	if _, ok := isFile(node.Message{ID: "x", State: stateFile}); ok {
		t.Error("an ID without the mark counts as a file")
	}
	if id, ok := isFile(node.Message{ID: fileIDMark + "x", State: stateFile}); !ok || id != "x" {
		t.Error("a file entry is not recognised")
	}
}

// The chat list's preview is the newest entry, message or file, whichever the
// window learnt first at start.
func TestChatPreviewNewestOfFileAndMessage(t *testing.T) {
	test.NewTempApp(t)
	now := time.Now()
	fc := fivePeers()
	conv := node.DirectConv(bobID)
	fc.addHistory(conv, node.Message{ID: "m1", Conv: conv, From: bobID, To: selfID, Text: "newer text",
		Time: now.Add(-time.Minute), State: node.StateRead})
	ff := &fileFake{fakeCore: fc, list: []node.Transfer{{ID: "in-1", Name: "old.pdf", State: node.TransferDone,
		Peer: bobID, Path: "/tmp/old.pdf", Time: now.Add(-time.Hour)}}}
	h := newHarnessFor(t, ff)
	if got := h.u.chats.preview(h.u.chats.rows[h.u.chats.index(conv)]); got != "newer text" {
		t.Fatalf("preview %q, want the newer message", got)
	}
}
