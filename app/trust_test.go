package app

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// Ticking "Verified" in the details calls SetVerified and puts the mark on the
// roster row and in the conversation header; unticking withdraws both.
func TestVerifiedToggleCallsCoreAndShowsMark(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.openPeer(bobID)
	if h.u.conv.header.verified.Visible() || h.rosterRowByID(bobID).verified.Visible() {
		t.Fatal("Bob is marked verified before anyone checked")
	}
	h.u.showPeerDetails(bobID)
	d := h.u.details
	if d.verified.Checked || d.verified.Disabled() {
		t.Fatalf("the toggle starts checked=%v disabled=%v", d.verified.Checked, d.verified.Disabled())
	}
	if len(h.labelsContaining("in person or by phone")) == 0 {
		t.Error("the details do not say how to verify")
	}
	test.Tap(d.verified)
	h.waitFor("SetVerified", func() bool { return slices.Equal(h.fc.trustOps(), []string{"verify|" + bobID + "|true"}) })
	h.waitFor("the verified mark", func() bool { return h.u.peers[bobID].Verified })
	if !h.u.conv.header.verified.Visible() {
		t.Error("no verified mark in the header")
	}
	if row := h.rosterRowByID(bobID); row == nil || !row.verified.Visible() {
		t.Error("no verified mark on the roster row")
	}
	if row := h.rosterRowByID(aliceID); row == nil || row.verified.Visible() {
		t.Error("alice is marked verified too")
	}
	if !d.verified.Checked {
		t.Error("the toggle did not stay on")
	}

	test.Tap(d.verified)
	h.waitFor("SetVerified off", func() bool { return len(h.fc.trustOps()) == 2 && !h.u.peers[bobID].Verified })
	if got := h.fc.trustOps()[1]; got != "verify|"+bobID+"|false" {
		t.Errorf("second call %q", got)
	}
	if h.u.conv.header.verified.Visible() || h.rosterRowByID(bobID).verified.Visible() {
		t.Error("the mark stays after withdrawing")
	}
}

// Block asks first; Cancel does nothing. Confirming calls Block, greys the
// peer out in the roster as "Blocked" and disables the composer, saying why.
func TestBlockAsksThenDisablesComposerWithReason(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.openPeer(bobID)
	h.u.showPeerDetails(bobID)
	d := h.u.details

	test.Tap(d.block)
	if len(h.labelsContaining("refuse every link")) == 0 || len(h.labelsContaining("kept after a restart")) == 0 {
		t.Fatal("no confirmation explaining what blocking does")
	}
	test.Tap(h.button("Cancel"))
	h.pump()
	if ops := h.fc.trustOps(); len(ops) != 0 {
		t.Fatalf("Cancel still called the core: %v", ops)
	}

	test.Tap(d.block)
	confirm := h.button("Block")
	if confirm == nil || confirm.Importance != widget.DangerImportance {
		t.Fatalf("no red Block button in the confirmation: %+v", confirm)
	}
	test.Tap(confirm)
	h.waitFor("Block", func() bool { return slices.Equal(h.fc.trustOps(), []string{"block|" + bobID + "|true"}) })
	h.waitFor("the blocked state", func() bool { return h.u.peers[bobID].Blocked })

	c := h.u.conv
	if !c.composer.Disabled() || !c.send.Disabled() {
		t.Error("the composer is still enabled for a blocked peer")
	}
	if !c.notice.Visible() || !strings.Contains(c.notice.Text, "You blocked Bob") ||
		!strings.Contains(c.notice.Text, "Unblock") {
		t.Errorf("the reason is not shown: visible=%v %q", c.notice.Visible(), c.notice.Text)
	}
	if got := h.rosterNames(); got[len(got)-1] != "Bob" {
		t.Errorf("a blocked peer should sort last: %v", got)
	}
	row := h.rosterRowByID(bobID)
	if row == nil || row.subtitle.Text != "Blocked" || row.title.Importance != widget.LowImportance {
		t.Fatalf("the roster row is not greyed out as blocked: %+v", row)
	}
	if d.block.Text != "Unblock…" || d.verified.Disabled() != true {
		t.Errorf("details after blocking: button %q, verify toggle disabled=%v", d.block.Text, d.verified.Disabled())
	}

	// Unblocking asks too and gives the composer back.
	test.Tap(d.block)
	test.Tap(h.button("Unblock"))
	h.waitFor("Unblock", func() bool { return !h.u.peers[bobID].Blocked })
	if c.composer.Disabled() {
		t.Error("the composer stays disabled after unblocking")
	}
}

// A known name with a new key warns in the header, on the roster row, in the
// details and by notification; the wording is stronger when the earlier peer
// was verified. Verifying the newcomer clears the key warning.
func TestKeyChangedWarns(t *testing.T) {
	old := peer(alice1, "Alice", "offline", "")
	old.Verified = true
	fc := newFakeCore(old, peer(bobID, "Bob", "available", ""))
	h := newHarness(t, fc)
	h.u.focused = true // a security warning notifies even in the foreground

	h.emit(node.KeyChanged{Name: "Alice", Peer: alice2, Previous: []string{alice1}, Fingerprint: fingerprintOf(alice2),
		PreviousVerified: true})
	newcomer := peer(alice2, "Alice", "available", "")
	fc.snapshot(func(f *fakeCore) { f.peers = append(f.peers, newcomer) })
	h.emit(node.PeerUp{Peer: newcomer})
	if len(h.notes) != 1 || !strings.Contains(h.notes[0], "Alice appeared with a new key") ||
		!strings.Contains(h.notes[0], "impostor") || !strings.Contains(h.notes[0], "you verified") {
		t.Fatalf("notifications %q", h.notes)
	}
	h.openPeer(alice2)
	w := h.u.conv.header.warning
	if !w.Visible() || !strings.Contains(w.Text, "new key") || !strings.Contains(w.Text, "Do not trust") ||
		w.Importance != widget.DangerImportance {
		t.Errorf("header warning visible=%v importance=%v %q", w.Visible(), w.Importance, w.Text)
	}
	if strings.Contains(w.Text, "Another peer uses the name") {
		t.Errorf("the same-name warning repeats what the key warning says: %q", w.Text)
	}
	if row := h.rosterRowByID(alice2); row == nil || !row.warn.Visible() {
		t.Error("no warning mark on the newcomer's roster row")
	}
	h.u.showPeerDetails(alice2)
	if dw := h.u.details.warning; !dw.Visible() || !strings.Contains(dw.Text, "new key") {
		t.Errorf("details warning %q", dw.Text)
	}

	// The earlier peer keeps the plain same-name warning.
	h.openPeer(alice1)
	if w := h.u.conv.header.warning; !w.Visible() || !strings.Contains(w.Text, "Another peer uses the name Alice") {
		t.Errorf("the earlier Alice's header %q", w.Text)
	}

	// Having compared numbers, the user verifies the newcomer: the key warning goes.
	test.Tap(h.u.details.verified)
	h.waitFor("verified", func() bool { return h.u.peers[alice2].Verified })
	h.openPeer(alice2)
	if w := h.u.conv.header.warning; strings.Contains(w.Text, "new key") {
		t.Errorf("the key warning stays after verifying: %q", w.Text)
	}
}

func TestKeyChangedWordingWithoutVerification(t *testing.T) {
	got := keyChangedText(node.KeyChanged{Name: "Bob", Peer: bobID})
	want := "Bob appeared with a new key — this is a different device or an impostor; compare safety numbers"
	if !strings.Contains(got, want) {
		t.Errorf("%q lacks %q", got, want)
	}
	if strings.Contains(got, "Do not trust") {
		t.Errorf("the plain warning uses the strong wording: %q", got)
	}
}

func TestSettingsShowNetwork(t *testing.T) {
	fc := fivePeers()
	fc.self.Team = "7f3a"
	h := newHarness(t, fc)
	h.u.showSettings()
	if len(h.labelsContaining("Closed team (7f3a)")) == 0 {
		t.Error("settings do not show the team")
	}
	if len(h.labelsContaining("--team-file")) == 0 || len(h.labelsContaining("$PARLEY_TEAM")) == 0 {
		t.Error("settings do not say how to join a team")
	}
	if !strings.HasPrefix(networkText(""), "Open") {
		t.Errorf("open network: %q", networkText(""))
	}
}
