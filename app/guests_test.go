package app

import (
	"bytes"
	"image/png"
	"slices"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/makiuchi-d/gozxing"
	qrreader "github.com/makiuchi-d/gozxing/qrcode"

	"parley/node"
)

// guestFake is the fake core that hosts browser guests, with a web server.
type guestFake struct {
	*fakeCore
	gmu    sync.Mutex
	guests []guestView
	urls   []string
	fp     string
	ops    []string // "admit|id|true", "remove|id"
}

func newGuestFake(fc *fakeCore, guests ...guestView) *guestFake {
	f := &guestFake{fakeCore: fc, guests: guests,
		urls: []string{"https://192.168.1.10:48558/", "https://[fd00::5]:48558/"},
		fp:   "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"}
	fc.self.WebFingerprint = f.fp
	return f
}

func (f *guestFake) Guests() []guestView {
	f.gmu.Lock()
	defer f.gmu.Unlock()
	return slices.Clone(f.guests)
}

func (f *guestFake) AdmitGuest(id string, on bool) error {
	f.gmu.Lock()
	defer f.gmu.Unlock()
	f.ops = append(f.ops, "admit|"+id+"|"+map[bool]string{true: "true", false: "false"}[on])
	f.guests = slices.DeleteFunc(f.guests, func(g guestView) bool { return g.ID == id && !on })
	for i := range f.guests {
		if f.guests[i].ID == id {
			f.guests[i].State, f.guests[i].Connected = guestAdmitted, true
		}
	}
	return nil
}

func (f *guestFake) RemoveGuest(id string) error {
	f.gmu.Lock()
	defer f.gmu.Unlock()
	f.ops = append(f.ops, "remove|"+id)
	f.guests = slices.DeleteFunc(f.guests, func(g guestView) bool { return g.ID == id })
	return nil
}

// set changes a guest the way the node would on its own (timeout, headless).
func (f *guestFake) set(fn func(gs []guestView) []guestView) {
	f.gmu.Lock()
	defer f.gmu.Unlock()
	f.guests = fn(f.guests)
}

func (f *guestFake) WebURLs() []string      { return slices.Clone(f.urls) }
func (f *guestFake) WebFingerprint() string { return f.fp }

func (f *guestFake) guestOps() []string {
	f.gmu.Lock()
	defer f.gmu.Unlock()
	return slices.Clone(f.ops)
}

func (h *harness) waitGuestOps(gf *guestFake, want ...string) {
	h.t.Helper()
	h.waitFor("guest commands "+strings.Join(want, ", "), func() bool { return slices.Equal(gf.guestOps(), want) })
}

var (
	kimID = mkID("kim-guest")
	leeID = mkID("lee-guest")
)

// openInvite taps "Invite a guest…" and waits for the addresses and guests.
func (h *harness) openInvite() *inviteView {
	h.t.Helper()
	b := h.button("Invite a guest…")
	if b == nil {
		h.t.Fatal("no Invite a guest button")
	}
	test.Tap(b)
	h.waitFor("the invite dialog", func() bool { return h.u.guests.invite != nil && h.u.guests.invite.loaded })
	return h.u.guests.invite
}

func TestInviteShowsAddressesFingerprintAndGuests(t *testing.T) {
	gf := newGuestFake(newFakeCore(),
		guestView{ID: leeID, Name: "Lee", State: guestAdmitted, Connected: true, From: "192.168.1.40"},
		guestView{ID: kimID, Name: "Kim", State: guestPending, From: "192.168.1.33"})
	test.NewTempApp(t)
	h := newHarnessFor(t, gf)
	v := h.openInvite()

	if !slices.Equal(v.urls, gf.urls) || len(v.qrs) != len(gf.urls) {
		t.Fatalf("dialog shows %q with %d QR codes, want %q with one each", v.urls, len(v.qrs), gf.urls)
	}
	for _, u := range gf.urls {
		ls := h.labelsContaining(u)
		if len(ls) == 0 || !ls[0].Selectable {
			t.Errorf("address %s not shown as selectable text", u)
		}
	}
	if len(h.labelsContaining(gf.fp)) == 0 {
		t.Errorf("fingerprint %s not shown", gf.fp)
	}
	// The waiting guest comes first, with Admit and Refuse; the admitted one
	// has Remove.
	if got := []string{v.guests[0].Name, v.guests[1].Name}; !slices.Equal(got, []string{"Kim", "Lee"}) {
		t.Errorf("guest order %q, want the waiting one first", got)
	}
	kim, lee := v.rows[kimID], v.rows[leeID]
	if kim == nil || lee == nil || kim.admit == nil || kim.remove != nil || lee.remove == nil || lee.admit != nil {
		t.Fatalf("rows: kim %+v lee %+v", kim, lee)
	}
	if !strings.Contains(kim.state.Text, "Waiting") || !strings.Contains(kim.state.Text, "192.168.1.33") {
		t.Errorf("kim's state %q", kim.state.Text)
	}

	test.Tap(kim.admit)
	h.waitGuestOps(gf, "admit|"+kimID+"|true")
	h.waitFor("kim admitted in the list", func() bool {
		r := v.rows[kimID]
		return r != nil && r.remove != nil && strings.Contains(r.state.Text, "Admitted")
	})
	test.Tap(v.rows[leeID].remove)
	h.waitGuestOps(gf, "admit|"+kimID+"|true", "remove|"+leeID)
	h.waitFor("lee gone from the list", func() bool { return v.rows[leeID] == nil && len(v.rows) == 1 })
}

func TestInviteWithWebServerOff(t *testing.T) {
	gf := newGuestFake(newFakeCore())
	gf.urls = nil
	test.NewTempApp(t)
	h := newHarnessFor(t, gf)
	v := h.openInvite()
	if len(v.qrs) != 0 || len(h.labelsContaining("web server is off")) == 0 {
		t.Errorf("with no web address the dialog should say so (QR codes: %d)", len(v.qrs))
	}
	if len(h.labelsContaining("No guests yet")) == 0 {
		t.Error("empty guest list not explained")
	}
}

func TestNoInviteWithoutGuestHosting(t *testing.T) {
	h := newHarness(t, newFakeCore())
	if h.u.guests != nil || h.button("Invite a guest…") != nil {
		t.Fatal("a core without guest hosting shows Invite a guest")
	}
	h.emit(guestRequest{Guest: kimID, Name: "Kim"}) // ignored, no panic
}

// TestInviteQRCodeDecodes reads the QR code image back with a QR decoder.
func TestInviteQRCodeDecodes(t *testing.T) {
	for _, u := range []string{"https://192.168.1.10:48558/", "https://[fd12:3456:789a:1::abcd]:48558/"} {
		img, err := qrImage(u)
		if err != nil {
			t.Fatal(err)
		}
		if img.Resource == nil {
			t.Fatal("QR code has no image")
		}
		pic, err := png.Decode(bytes.NewReader(img.Resource.Content()))
		if err != nil {
			t.Fatal(err)
		}
		if b := pic.Bounds(); b.Dx() != qrPixels || b.Dy() != qrPixels {
			t.Errorf("QR image %v, want %d px square", b, qrPixels)
		}
		bmp, err := gozxing.NewBinaryBitmapFromImage(pic)
		if err != nil {
			t.Fatal(err)
		}
		res, err := qrreader.NewQRCodeReader().Decode(bmp, nil)
		if err != nil {
			t.Fatalf("decode QR of %s: %v", u, err)
		}
		if res.GetText() != u {
			t.Errorf("QR code reads %q, want %q", res.GetText(), u)
		}
	}
}

// promptShown is the open admission prompt of a guest, if its dialog is up.
func (h *harness) promptShown(id string) *admissionPrompt {
	p := h.u.guests.prompts[id]
	if p == nil {
		return nil
	}
	shown := false
	h.everything(func(o fyne.CanvasObject) {
		if o == p.admit {
			shown = true
		}
	})
	if !shown {
		return nil
	}
	return p
}

func TestAdmissionPromptAdmits(t *testing.T) {
	gf := newGuestFake(newFakeCore(), guestView{ID: kimID, Name: "<img src=x onerror=alert(1)>", State: guestPending, From: "192.168.1.33"})
	test.NewTempApp(t)
	h := newHarnessFor(t, gf)
	h.u.focused = false
	h.emit(guestRequest{Guest: kimID, Name: "<img src=x onerror=alert(1)>", From: "192.168.1.33"})
	p := h.promptShown(kimID)
	if p == nil {
		t.Fatal("no admission prompt")
	}
	// The browser's name is shown as it is, as text.
	if want := "<img src=x onerror=alert(1)> asks to join as a guest from 192.168.1.33."; p.text.Text != want {
		t.Errorf("prompt says %q, want %q", p.text.Text, want)
	}
	if len(h.notes) != 1 || !strings.Contains(h.notes[0], "asks to join") {
		t.Errorf("notifications %q, want one about the guest", h.notes)
	}
	// Asked again (the browser reloaded): still one prompt.
	h.emit(guestRequest{Guest: kimID, Name: "Kim", From: "192.168.1.33"})
	if n := len(h.u.dialogs); n != 1 {
		t.Errorf("%d dialogs open, want the one prompt", n)
	}
	test.Tap(p.admit)
	h.waitGuestOps(gf, "admit|"+kimID+"|true")
	if h.promptShown(kimID) != nil || len(h.u.dialogs) != 0 {
		t.Error("the prompt stayed after Admit")
	}
}

func TestAdmissionPromptRefuses(t *testing.T) {
	gf := newGuestFake(newFakeCore(), guestView{ID: kimID, Name: "Kim", State: guestPending})
	test.NewTempApp(t)
	h := newHarnessFor(t, gf)
	h.emit(guestRequest{Guest: kimID, Name: "Kim"})
	test.Tap(h.promptShown(kimID).refuse)
	h.waitGuestOps(gf, "admit|"+kimID+"|false")
	if h.promptShown(kimID) != nil {
		t.Error("the prompt stayed after Refuse")
	}
}

// Escape closes the prompt without turning the guest away; it stays waiting
// in the invite dialog.
func TestAdmissionPromptEscapeLeavesGuestWaiting(t *testing.T) {
	gf := newGuestFake(newFakeCore(), guestView{ID: kimID, Name: "Kim", State: guestPending})
	test.NewTempApp(t)
	h := newHarnessFor(t, gf)
	h.emit(guestRequest{Guest: kimID, Name: "Kim"})
	if !h.u.escape() || h.promptShown(kimID) != nil {
		t.Fatal("Escape did not close the prompt")
	}
	v := h.openInvite()
	if v.rows[kimID] == nil || v.rows[kimID].admit == nil {
		t.Fatal("the waiting guest is not in the invite dialog")
	}
	if ops := gf.guestOps(); len(ops) != 0 {
		t.Errorf("Escape answered the guest: %q", ops)
	}
}

// A guest answered elsewhere (headless) or timed out leaves the admission
// dialog; the others stay, and the dialog closes with the last one.
func TestAdmissionPromptAnsweredElsewhere(t *testing.T) {
	gf := newGuestFake(newFakeCore(),
		guestView{ID: kimID, Name: "Kim", State: guestPending},
		guestView{ID: leeID, Name: "Lee", State: guestPending})
	test.NewTempApp(t)
	h := newHarnessFor(t, gf)
	h.emit(guestRequest{Guest: kimID, Name: "Kim"})
	h.emit(guestRequest{Guest: leeID, Name: "Lee"})
	if h.promptShown(kimID) == nil || h.promptShown(leeID) == nil || len(h.u.dialogs) != 1 {
		t.Fatalf("want both guests in one dialog (%d dialogs)", len(h.u.dialogs))
	}
	// Admitted through headless: the event says so.
	gf.set(func(gs []guestView) []guestView { gs[0].State = guestAdmitted; return gs })
	h.emit(guestChanged{Guest: guestView{ID: kimID, Name: "Kim", State: guestAdmitted, Connected: true}})
	if h.promptShown(kimID) != nil || h.promptShown(leeID) == nil {
		t.Error("after Kim was admitted elsewhere, only Lee should be waiting")
	}
	// Lee's join timed out: he is no longer in the list, whatever the event says.
	gf.set(func(gs []guestView) []guestView { return gs[:1] })
	h.emit(guestChanged{Guest: guestView{ID: kimID, Name: "Kim", State: guestAdmitted}})
	h.waitFor("Lee's prompt gone", func() bool { return h.promptShown(leeID) == nil })
	if len(h.u.dialogs) != 0 {
		t.Errorf("%d dialogs open, want the admission dialog closed", len(h.u.dialogs))
	}
	if ops := gf.guestOps(); len(ops) != 0 {
		t.Errorf("the app answered: %q", ops)
	}
}

// Hiding a dialog takes down those above it: with Settings open over the
// admission dialog, the last guest leaving must not close Settings.
func TestAdmissionPromptUnderAnotherDialog(t *testing.T) {
	gf := newGuestFake(newFakeCore(), guestView{ID: kimID, Name: "Kim", State: guestPending})
	test.NewTempApp(t)
	h := newHarnessFor(t, gf)
	h.emit(guestRequest{Guest: kimID, Name: "Kim"})
	h.u.showSettings()
	gf.set(func([]guestView) []guestView { return nil })
	h.emit(guestChanged{Guest: guestView{ID: kimID}})
	h.waitFor("Kim's prompt gone", func() bool { return h.promptShown(kimID) == nil })
	if h.button("Save") == nil || len(h.u.dialogs) != 2 {
		t.Fatalf("settings closed with the prompt (%d dialogs)", len(h.u.dialogs))
	}
	if len(h.labelsContaining("No one is waiting")) != 1 {
		t.Error("the admission dialog does not say nobody waits")
	}
}

func TestGuestBadgeAndHost(t *testing.T) {
	ann := peer(mkID("ann"), "Ann", node.PresenceAvailable, "")
	kim := peer(kimID, "Kim", node.PresenceAvailable, "")
	mine := peer(leeID, "Lee", node.PresenceAvailable, "")
	radio := peer(mkID("radio1"), "radio1", node.PresenceAvailable, "")
	kim.Guest, kim.Via = true, ann.ID
	mine.Guest, mine.Via = true, selfID
	radio.SIP, radio.Via = true, ann.ID

	h := newHarness(t, newFakeCore(ann, kim, mine, radio))
	for name, want := range map[string]string{"Ann": "", "Kim": "guest", "Lee": "guest", "radio1": "phone"} {
		r := h.rosterRow(name)
		if r == nil {
			t.Fatalf("no row for %s", name)
		}
		if r.guest.Visible() != (want != "") || (want != "" && r.guest.text.Text != want) {
			t.Errorf("%s: badge shown %v %q, want %q", name, r.guest.Visible(), r.guest.text.Text, want)
		}
	}
	h.u.showPeerDetails(radio.ID)
	if len(h.labelsContaining("SIP phone registered with Ann")) != 1 {
		t.Error("radio1's details do not say it is a phone registered with Ann")
	}
	h.u.escape()
	h.u.showPeerDetails(kimID)
	if len(h.labelsContaining("hosted by Ann")) != 1 {
		t.Error("Kim's details do not name her host")
	}
	h.u.escape()
	h.u.showPeerDetails(leeID)
	if len(h.labelsContaining("hosted by this computer")) != 1 {
		t.Error("Lee's details do not say this computer hosts him")
	}
	h.u.escape()
	h.u.showPeerDetails(ann.ID)
	for _, l := range h.labelsContaining("hosted by") {
		t.Errorf("Ann is no guest, yet details say %q", l.Text)
	}
}

// A guest asking while the invite dialog is open shows up in it at once.
func TestInviteListsANewcomer(t *testing.T) {
	gf := newGuestFake(newFakeCore())
	test.NewTempApp(t)
	h := newHarnessFor(t, gf)
	v := h.openInvite()
	gf.set(func([]guestView) []guestView {
		return []guestView{{ID: kimID, Name: "Kim", State: guestPending, From: "192.168.1.33"}}
	})
	h.emit(guestRequest{Guest: kimID, Name: "Kim", From: "192.168.1.33"})
	h.waitFor("Kim in the invite dialog", func() bool { return v.rows[kimID] != nil && v.rows[kimID].admit != nil })
	if h.promptShown(kimID) == nil {
		t.Error("no admission prompt with the invite dialog open")
	}
}

// Dialogs closed with Escape open again. showDialog sets an on-closed handler of
// its own after the dialog's (the prompt forgets itself, the invite dialog too);
// this holds only because Fyne's SetOnClosed chains handlers rather than
// replacing them. If it ever replaced them, a guest asking after Escape would be
// added to the hidden prompt and nobody would see it.
func TestDialogsOpenAgainAfterEscape(t *testing.T) {
	amyID := mkID("amy-guest")
	gf := newGuestFake(newFakeCore(), guestView{ID: kimID, Name: "Kim", State: guestPending},
		guestView{ID: amyID, Name: "Amy", State: guestPending})
	test.NewTempApp(t)
	h := newHarnessFor(t, gf)
	h.emit(guestRequest{Guest: kimID, Name: "Kim"})
	if !h.u.escape() || h.promptShown(kimID) != nil {
		t.Fatal("Escape did not close the prompt")
	}
	h.emit(guestRequest{Guest: amyID, Name: "Amy"})
	if h.promptShown(amyID) == nil {
		t.Fatal("a guest asking after Escape got no prompt")
	}
	h.u.escape()

	v := h.openInvite()
	if !h.u.escape() || h.u.guests.invite != nil {
		t.Fatalf("Escape left the invite dialog remembered (%v)", h.u.guests.invite == v)
	}
	if w := h.openInvite(); w == v || len(h.u.dialogs) != 1 {
		t.Fatalf("the invite dialog did not open afresh (same %v, %d dialogs)", w == v, len(h.u.dialogs))
	}
}
