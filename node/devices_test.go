package node

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A registered phone is a peer to others: sip and via in their rosters, its
// key stable across host restarts, offline everywhere when it expires.
func TestDeviceIsAPeerToOthers(t *testing.T) {
	hostDir := t.TempDir()
	host := startTestNode(t, "host", Config{DataDir: hostDir})
	peer := startTestNode(t, "peer", Config{})
	linkNodes(t, peer, host)
	if _, err := host.HostDevice(context.Background(), DeviceJoin{User: "radio1"}); !errors.Is(err, ErrSIPAccount) {
		t.Fatalf("no account: %v", err)
	}
	if err := host.SetSIPAccount("radio1", "correct horse"); err != nil {
		t.Fatal(err)
	}
	raw, _, _ := host.db.Setting(settingSIPAccounts)
	if strings.Contains(raw, "correct horse") || !strings.Contains(raw, SIPHA1("radio1", host.SIPRealm(), "correct horse")) {
		t.Fatalf("stored account %s: want HA1 only", raw)
	}
	d, err := host.HostDevice(context.Background(), DeviceJoin{User: "radio1", Name: "Radio One", Contact: "sip:radio1@127.0.0.1:5062", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the peer sees the device as a SIP phone via its host", func() bool {
		v, ok := rosterEntry(peer, d.ID())
		return ok && v.Online && v.SIP && v.Guest && v.Via == host.ID().String() && v.Name == "Radio One"
	})
	again, err := host.HostDevice(context.Background(), DeviceJoin{User: "radio1", Contact: "sip:radio1@127.0.0.1:5064", Expires: time.Now().Add(300 * time.Millisecond)})
	if err != nil || again != d || d.Contact() != "sip:radio1@127.0.0.1:5064" {
		t.Fatalf("refresh: %v, same %v, contact %s", err, again == d, d.Contact())
	}
	accts, err := host.SIPAccounts()
	if err != nil || len(accts) != 1 || !accts[0].Registered || accts[0].ID != d.ID() {
		t.Fatalf("accounts %+v %v", accts, err)
	}
	select {
	case <-d.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the registration expired but the device stayed")
	}
	eventually(t, "the peer sees the device offline", func() bool {
		v, ok := rosterEntry(peer, d.ID())
		return ok && !v.Online
	})
	if accts, _ := host.SIPAccounts(); accts[0].Registered {
		t.Fatal("expired device still registered")
	}
	// The key is the host's and the account's: the same after a restart.
	id := d.ID()
	host.Stop()
	host2 := startTestNode(t, "host", Config{DataDir: hostDir})
	d2, err := host2.HostDevice(context.Background(), DeviceJoin{User: "radio1"})
	if err != nil || d2.ID() != id {
		t.Fatalf("after restart: %v, id %s want %s", err, d2.ID(), id)
	}
	if err := host2.SetSIPAccount("radio2", "another one"); err != nil {
		t.Fatal(err)
	}
	if other, _ := host2.deviceIdentity("radio2"); other.ID.String() == id {
		t.Fatal("two accounts, one key")
	}
	if err := host2.SetSIPAccount("radio1", ""); err != nil { // deleting unregisters
		t.Fatal(err)
	}
	select {
	case <-d2.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("a deleted account's device stayed")
	}
}

func TestSIPAccountNames(t *testing.T) {
	for u, ok := range map[string]bool{"radio1": true, "a.b-c_d": true, "": false, "Radio": false, ".x": false, "a b": false, "a@b": false, strings.Repeat("a", 33): false} {
		if validSIPUser(u) != ok {
			t.Errorf("%q: want %v", u, ok)
		}
	}
}

// A message to a phone is delivered only once the phone took it
// (ConfirmDelivery, after its MESSAGE got 200), not when its node stored it.
func TestDeviceDeliveredWhenThePhoneTookIt(t *testing.T) {
	host := startTestNode(t, "host", Config{})
	peer := startTestNode(t, "peer", Config{})
	linkNodes(t, peer, host)
	if err := host.SetSIPAccount("radio1", "correct horse"); err != nil {
		t.Fatal(err)
	}
	d, err := host.HostDevice(context.Background(), DeviceJoin{User: "radio1"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the peer sees the phone", func() bool { v, ok := rosterEntry(peer, d.ID()); return ok && v.Online })
	id, err := peer.Send(d.ID(), "hello phone")
	if err != nil {
		t.Fatal(err)
	}
	var got MessageReceived
	for got.ID != id {
		select {
		case ev := <-d.Events():
			if m, ok := ev.(MessageReceived); ok {
				got = m
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the phone's node never got the message")
		}
	}
	deadline := time.After(time.Second)
	for waiting := true; waiting; {
		select {
		case ev := <-peer.Events():
			if e, ok := ev.(MessageDelivered); ok && e.ID == id {
				t.Fatal("delivered before the phone took it")
			}
		case <-deadline:
			waiting = false
		}
	}
	if err := d.Node().ConfirmDelivery(got.From, got.ID); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, peer, func(e MessageDelivered) bool { return e.ID == id })
}

// Direct calls need the SIP skin; the setting of unregistered callers is off
// until switched and kept; direct device names are bounded.
func TestSIPDirectSettings(t *testing.T) {
	n := startTestNode(t, "host", Config{})
	if _, err := n.CallSIP("sip:bob@10.0.0.5"); !errors.Is(err, ErrSIPOff) {
		t.Fatalf("CallSIP without the SIP skin: %v, want ErrSIPOff", err)
	}
	if n.SIPUnregistered() {
		t.Fatal("unregistered callers allowed by default")
	}
	if err := n.SetSIPUnregistered(true); err != nil || !n.SIPUnregistered() {
		t.Fatalf("switched on: %v, %v", err, n.SIPUnregistered())
	}
	if err := n.SetSIPUnregistered(false); err != nil || n.SIPUnregistered() {
		t.Fatalf("switched off: %v, %v", err, n.SIPUnregistered())
	}
	for k, ok := range map[string]bool{"bob@10.0.0.5": true, "@fe80::1%eth0": true, "": false, "a b@c": false, "x\x00@y": false, strings.Repeat("a", maxDirectKey+1): false} {
		if validDirectKey(k) != ok {
			t.Errorf("direct key %q: want %v", k, ok)
		}
	}
}
