package app

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"parley/node"
)

// TestPhonesOnARealNode runs the Phones dialog on a real node: an account
// added in the window is one the registrar accepts (its digest HA1 is stored
// under the node's realm), a phone registering shows as registered at once
// (its PeerUp re-reads the accounts) and as a "phone" in the People list, and
// Remove signs it out.
func TestPhonesOnARealNode(t *testing.T) {
	n, err := node.New(node.Config{DataDir: t.TempDir(), Name: "Host", Listen: "127.0.0.1:0",
		AudioIn: "null", AudioOut: "null", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	test.NewTempApp(t)
	h := newHarnessFor(t, nodeCore{n, newFakeCore()})
	v := h.openPhones()
	if len(h.labelsContaining("No accounts yet")) != 1 {
		t.Error("an empty account list is not explained")
	}
	test.Type(v.user, "radio1")
	test.Type(v.pass, "correct horse")
	test.Tap(v.add)
	h.waitFor("radio1 listed", func() bool { return v.rows["radio1"] != nil })
	if ha1, ok := n.SIPAccountHA1("radio1"); !ok || ha1 != node.SIPHA1("radio1", n.SIPRealm(), "correct horse") {
		t.Fatalf("stored HA1 %q, %v", ha1, ok)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dev, err := n.HostDevice(ctx, node.DeviceJoin{User: "radio1", Name: "Radio 1",
		Contact: "sip:radio1@127.0.0.1:5062", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	h.waitFor("Radio 1 in the People list with the phone badge", func() bool {
		r := h.rosterRow("Radio 1")
		return r != nil && r.guest.Visible() && r.guest.text.Text == "phone"
	})
	// The phone's arrival re-reads the accounts: no Refresh needed.
	h.waitFor("radio1 shown registered", func() bool {
		r := v.rows["radio1"]
		return r != nil && strings.Contains(r.state.Text, "registered from sip:radio1@127.0.0.1:5062")
	})

	test.Tap(v.rows["radio1"].remove)
	test.Tap(h.button("Remove account"))
	h.waitFor("radio1 removed and signed out", func() bool {
		select {
		case <-dev.Done():
			return v.rows["radio1"] == nil
		default:
			return false
		}
	})
	if _, ok := n.SIPAccountHA1("radio1"); ok {
		t.Fatal("radio1 still an account")
	}
}
