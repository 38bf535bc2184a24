package app

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"parley/node"
)

// sipFake is the fake core that keeps SIP accounts as the node does: the
// password goes in, only whether it was set is kept (ops record the calls).
type sipFake struct {
	*fakeCore
	smu    sync.Mutex
	accts  []node.SIPAccountView
	listen string
	unreg  bool
	ops    []string // "set|user|password", "listen|addr", "unreg|true"
}

func (f *sipFake) SIPAccounts() ([]node.SIPAccountView, error) {
	f.smu.Lock()
	defer f.smu.Unlock()
	return slices.Clone(f.accts), nil
}

func (f *sipFake) SetSIPAccount(user, password string) error {
	f.smu.Lock()
	defer f.smu.Unlock()
	f.ops = append(f.ops, "set|"+user+"|"+password)
	i := slices.IndexFunc(f.accts, func(a node.SIPAccountView) bool { return a.User == user })
	switch {
	case password == "" && i < 0:
		return node.ErrSIPAccount
	case password == "":
		f.accts = slices.Delete(f.accts, i, i+1)
	case i < 0:
		f.accts = append(f.accts, node.SIPAccountView{User: user})
	}
	return nil
}

func (f *sipFake) SIPUnregistered() bool {
	f.smu.Lock()
	defer f.smu.Unlock()
	return f.unreg
}

func (f *sipFake) SetSIPUnregistered(on bool) error {
	f.smu.Lock()
	defer f.smu.Unlock()
	f.ops = append(f.ops, "unreg|"+map[bool]string{true: "true", false: "false"}[on])
	f.unreg = on
	return nil
}

func (f *sipFake) SIPListen() string {
	f.smu.Lock()
	defer f.smu.Unlock()
	return f.listen
}

func (f *sipFake) SetSIPListen(addr string) error {
	f.smu.Lock()
	defer f.smu.Unlock()
	if strings.Contains(addr, "x") {
		return errors.New("sip address: want host:port")
	}
	f.ops = append(f.ops, "listen|"+addr)
	f.listen = addr
	return nil
}

func (f *sipFake) SIPHosts(listen string) []string {
	if listen == ":5070" {
		return []string{"192.168.1.10:5070"}
	}
	return []string{"192.168.1.10", "[fd00::5]"}
}

func (f *sipFake) sipOps() []string {
	f.smu.Lock()
	defer f.smu.Unlock()
	return slices.Clone(f.ops)
}

func (h *harness) waitSIPOps(sf *sipFake, want ...string) {
	h.t.Helper()
	h.waitFor("SIP commands "+strings.Join(want, ", "), func() bool { return slices.Equal(sf.sipOps(), want) })
}

// openPhones opens Settings, taps Phones… and waits for the accounts.
func (h *harness) openPhones() *phonesView {
	h.t.Helper()
	h.u.showSettings()
	b := h.button("Phones…")
	if b == nil {
		h.t.Fatal("no Phones… button in Settings")
	}
	test.Tap(b)
	h.waitFor("the phones dialog", func() bool { return h.u.phones != nil && h.u.phones.loaded })
	return h.u.phones
}

// The accounts with their registration and the address to register to; add,
// change a password, remove; the registrar switch from the next start; the
// unregistered callers' switch at once.
func TestPhonesSettings(t *testing.T) {
	until := time.Date(2026, 12, 7, 22, 30, 0, 0, time.Local)
	sf := &sipFake{fakeCore: newFakeCore(), accts: []node.SIPAccountView{
		{User: "desk", Registered: true, Contact: "192.168.1.40:5060", Expires: &until},
		{User: "radio1"}}}
	test.NewTempApp(t)
	h := newHarnessFor(t, sf)
	h.u.opts.SIPAddr = ":5060" // main started the registrar
	v := h.openPhones()

	if len(v.rows) != 2 {
		t.Fatalf("%d account rows, want 2", len(v.rows))
	}
	desk, radio := v.rows["desk"], v.rows["radio1"]
	if !strings.Contains(desk.state.Text, "registered from 192.168.1.40:5060") || radio.state.Text != "not registered" {
		t.Errorf("states %q, %q", desk.state.Text, radio.state.Text)
	}
	if desk.address.Text != "desk@192.168.1.10" || !desk.address.Selectable {
		t.Errorf("desk registers to %q (selectable %v), want desk@192.168.1.10", desk.address.Text, desk.address.Selectable)
	}
	test.Tap(radio.copyAddr)
	if got := fyne.CurrentApp().Clipboard().Content(); got != "radio1@192.168.1.10" {
		t.Errorf("Copy put %q on the clipboard", got)
	}
	if len(h.labelsContaining("also reachable at [fd00::5]")) != 1 {
		t.Error("the other address is not named")
	}
	if v.on.Checked || v.addr.Text != node.DefaultSIPAddr || !strings.Contains(v.status.Text, "Running now on :5060") ||
		!strings.Contains(v.status.Text, "next start: off") {
		t.Errorf("switch %v addr %q status %q", v.on.Checked, v.addr.Text, v.status.Text)
	}

	// Refresh re-reads the registrations.
	sf.smu.Lock()
	sf.accts[1].Registered, sf.accts[1].Contact = true, "sip:radio1@192.168.1.41"
	sf.smu.Unlock()
	test.Tap(h.button("Refresh"))
	h.waitFor("radio1 registered after Refresh", func() bool {
		r := v.rows["radio1"]
		return r != nil && strings.Contains(r.state.Text, "registered from sip:radio1@192.168.1.41")
	})

	// Adding: a bad name or a short password sends nothing.
	for _, c := range [][2]string{{"Radio 2", "long enough"}, {"radio2", "short"}, {"", "long enough"}} {
		test.Type(v.user, c[0])
		test.Type(v.pass, c[1])
		test.Tap(v.add)
		h.pump()
		v.user.SetText("")
		v.pass.SetText("")
	}
	if ops := sf.sipOps(); len(ops) != 0 {
		t.Fatalf("invalid accounts sent: %q", ops)
	}
	test.Type(v.user, "radio2")
	test.Type(v.pass, "s3cret-pass")
	test.Tap(v.add)
	h.waitSIPOps(sf, "set|radio2|s3cret-pass")
	h.waitFor("radio2 listed", func() bool { return v.rows["radio2"] != nil && v.user.Text == "" && v.pass.Text == "" })

	// Password…: the form changes it.
	test.Tap(v.rows["radio2"].pass)
	if v.pwForm == nil {
		t.Fatal("no password form")
	}
	test.Type(v.pwEntry, "new-password-2")
	v.pwForm.Submit()
	h.waitSIPOps(sf, "set|radio2|s3cret-pass", "set|radio2|new-password-2")

	// Remove asks, then removes.
	test.Tap(v.rows["radio1"].remove)
	b := h.button("Remove account")
	if b == nil {
		t.Fatal("no confirmation")
	}
	test.Tap(b)
	h.waitSIPOps(sf, "set|radio2|s3cret-pass", "set|radio2|new-password-2", "set|radio1|")
	h.waitFor("radio1 gone", func() bool { return v.rows["radio1"] == nil && len(v.rows) == 2 })

	// The switch: a refused address says why and keeps Save; :5070 is saved
	// for the next start.
	v.on.SetChecked(true)
	v.addr.SetText(":50x")
	test.Tap(v.save)
	h.waitFor("the refusal", func() bool { return strings.Contains(v.status.Text, "Not saved") })
	v.addr.SetText(":5070")
	test.Tap(v.save)
	h.waitFor("saved", func() bool { return strings.Contains(v.status.Text, "next start: on :5070") })
	v.unreg.SetChecked(true)
	h.waitSIPOps(sf, "set|radio2|s3cret-pass", "set|radio2|new-password-2", "set|radio1|", "listen|:5070", "unreg|true")
	v.on.SetChecked(false)
	test.Tap(v.save)
	h.waitFor("off", func() bool { return sf.SIPListen() == "" && strings.Contains(v.status.Text, "next start: off") })
}

// A core without SIP accounts has no Phones entry.
func TestNoPhonesWithoutSIP(t *testing.T) {
	h := newHarness(t, newFakeCore())
	h.u.showSettings()
	if h.button("Phones…") != nil {
		t.Fatal("Phones… shown for a core without SIP accounts")
	}
}

// A SIP phone's conversation says "phone" in its header; a peer's does not.
func TestPhoneBadgeInHeader(t *testing.T) {
	ann := peer(mkID("ann"), "Ann", node.PresenceAvailable, "")
	radio := peer(mkID("radio1"), "radio1", node.PresenceAvailable, "")
	radio.SIP, radio.Via = true, ann.ID
	h := newHarness(t, newFakeCore(ann, radio))
	h.openPeer(radio.ID)
	if b := h.u.conv.header.hosted; !b.Visible() || b.text.Text != "phone" {
		t.Fatalf("radio1's header badge shown %v %q, want phone", b.Visible(), b.text.Text)
	}
	h.openPeer(ann.ID)
	if h.u.conv.header.hosted.Visible() {
		t.Fatal("Ann's header shows a hosted badge")
	}
}
