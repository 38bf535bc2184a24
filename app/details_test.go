package app

import (
	"strings"
	"testing"
	"time"

	"parley/node"
)

var (
	alice1 = mkID("alice-1")
	alice2 = mkID("alice-2")
)

func TestSameNameOnTwoKeysWarns(t *testing.T) {
	fc := newFakeCore(peer(alice1, "Alice", "available", ""), peer(alice2, "Alice", "away", ""), peer(bobID, "Bob", "available", ""))
	h := newHarness(t, fc)
	fp1, fp2 := fingerprintOf(alice1), fingerprintOf(alice2)

	for _, c := range []struct{ id, otherFP string }{{alice1, fp2}, {alice2, fp1}} {
		h.u.showPeerDetails(c.id)
		h.waitFor("link figures", func() bool { return h.u.details.linksLoaded })
		w := h.u.details.warning
		if !w.Visible() || !strings.Contains(w.Text, "Another peer uses the name Alice with a different key") ||
			!strings.Contains(w.Text, c.otherFP) {
			t.Errorf("details of %s: warning visible=%v %q", c.id, w.Visible(), w.Text)
		}
		if len(h.labelsContaining("⚠ Another peer uses the name Alice")) == 0 {
			t.Errorf("details of %s: the warning is not on screen", c.id)
		}
		h.openPeer(c.id)
		if hw := h.u.conv.header.warning; !hw.Visible() || !strings.Contains(hw.Text, c.otherFP) {
			t.Errorf("conversation header of %s: %q", c.id, hw.Text)
		}
	}
	for _, p := range h.u.roster.rows {
		row := h.rosterRowByID(p.ID)
		if row == nil {
			t.Fatalf("no row for %s", p.ID)
		}
		if warn := row.warn.Visible(); warn != (p.Name == "Alice") {
			t.Errorf("roster row %s (%s): warning shown %v", p.Name, p.ID, warn)
		}
	}
	h.u.showPeerDetails(bobID)
	if h.u.details.warning.Visible() {
		t.Error("Bob's details warn although his name is unique")
	}
}

func TestDetailsShowFingerprintAddressesAndLinkQuality(t *testing.T) {
	fc := fivePeers()
	fc.links = []node.Link{{Peer: bobID, Remote: "192.168.1.20:48556", Outbound: true, Since: time.Now(),
		Quality: node.LinkQuality{SRTTus: 1500, RTTVarUs: 200, Sent: 100, Lost: 2, Loss: 0.02}}}
	h := newHarness(t, fc)
	h.u.showPeerDetails(bobID)
	h.waitFor("link figures", func() bool { return h.u.details.linksLoaded })
	d := h.u.details
	if d.fingerprint.Text != fingerprintOf(bobID) {
		t.Errorf("fingerprint %q", d.fingerprint.Text)
	}
	if !strings.Contains(d.addrs.Text, "192.168.1.20:48556") {
		t.Errorf("addresses %q", d.addrs.Text)
	}
	if !strings.Contains(d.link.Text, "RTT 1.5 ms") || !strings.Contains(d.link.Text, "loss 2.0 %") {
		t.Errorf("link %q", d.link.Text)
	}
}
