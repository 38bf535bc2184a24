package itest

import (
	"context"
	"crypto/ed25519"
	"net"
	"net/url"
	"testing"
	"time"

	"parley/identity"
	"parley/internal/hostile"
	"parley/internal/netlab"
	"parley/internal/seal"
	"parley/media/call"
	parleynode "parley/node"
	"parley/overlay"
)

// relayProbeListener is a UDP socket opened inside h's namespace at ip:0 that
// reports the first datagram it receives on got.
func relayProbeListener(t *testing.T, do hostile.Doer, ip string) (*net.UDPAddr, <-chan string) {
	t.Helper()
	var conn *net.UDPConn
	if err := do(func() error {
		var err error
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
		return err
	}); err != nil {
		t.Fatalf("probe listener on %s: %v", ip, err)
	}
	t.Cleanup(func() { conn.Close() })
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 1500)
		n, _, err := conn.ReadFrom(buf)
		if err == nil {
			got <- string(buf[:n])
		}
	}()
	return conn.LocalAddr().(*net.UDPAddr), got
}

// TestHostileRelay: a hostile peer on the LAN goes after an honest peer's TURN
// relay. It asks for credentials for an invented call (no parties) and for
// someone else's call leg: it must get none. With a credential for a leg it
// names itself in (what nobody can stop: it may invent a call with a second
// key of its own), it allocates and asks to relay to the relay host's loopback
// (where 127.0.0.53:53 would be) and into a network the host is on but does
// not relay on (a VPN, here the segment "vpn"): both refused, nothing arrives.
// It cannot take more than its leg's share of sessions with one credential.
// Control: to a host on the relay's own segment the relay does deliver.
func TestHostileRelay(t *testing.T) {
	c := newCluster(t)
	vpn, err := c.lab.AddSegment("vpn")
	if err != nil {
		t.Fatal(err)
	}
	relayHost := c.host("relay", c.seg, vpn)
	vpnHost := c.host("vpnpeer", vpn)
	evilHost := c.host("evil")
	// The relay serves (and discovers) on the LAN only; the host is on the vpn too.
	r := c.start(relayHost, "relay", "--iface", relayHost.Iface(c.seg))
	relayKey := ed25519.PublicKey(r.pubKey())
	before := r.counters()

	evil, err := hostile.New(evilHost.Do)
	if err != nil {
		t.Fatal(err)
	}
	opener, err := seal.NewOpener(evil.ID)
	if err != nil {
		t.Fatal(err)
	}
	grants := make(chan *call.Message, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	link, err := evil.Dial(ctx, r.linkAddr(), evil.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()
	link.OnFrame(parleynode.TypeCall, func(env []byte) {
		o, err := opener.Open(env)
		if err != nil {
			return
		}
		if m, err := call.Decode(o.Plaintext); err == nil && m.Kind == call.KindRelayGrant {
			grants <- m
		}
	})
	// Its record, so the relay can answer it.
	own, err := hostile.SignRecord(evil.ID, uint64(time.Now().UnixMicro()), "evil", []identity.PeerID{n1ID(t, r)})
	if err != nil {
		t.Fatal(err)
	}
	if err := link.Frame(overlay.TypeRecord, own); err != nil {
		t.Fatal(err)
	}
	if err := link.Sync(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	ask := func(id call.ID, parts ...identity.PeerID) {
		t.Helper()
		b, err := (&call.Message{Kind: call.KindRelayAsk, Call: id, Participants: parts}).Encode()
		if err != nil {
			t.Fatal(err)
		}
		env, err := seal.Seal(evil.ID, relayKey, b)
		if err != nil {
			t.Fatal(err)
		}
		if err := link.Frame(parleynode.TypeCall, env); err != nil {
			t.Fatal(err)
		}
	}
	others, err := hostile.Throwaway(2)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := others[0].ID, others[1].ID
	invented, someoneElses, mine := call.NewID(), call.NewID(), call.NewID()
	ask(invented)                 // no parties at all
	ask(someoneElses, alice, bob) // a leg it is no party of
	ask(mine, evil.ID.ID, bob)    // its own leg (an invented call, but its own)
	// The relay answers a link's frames in order: once the grant for "mine" is
	// here, any grant for the first two would have come before it.
	var cred *call.Relay
	var wrongGrants int
	deadline := time.After(15 * time.Second)
	for cred == nil {
		select {
		case g := <-grants:
			if g.Call == mine {
				cred = g.Relay
			} else {
				wrongGrants++
				t.Errorf("credentials granted for a call leg the asker is no party of (call %s): %s", g.Call, g.Relay.Username)
			}
		case <-deadline:
			t.Fatalf("no grant for the asker's own leg\n%s", r.Tail())
		}
	}
	if cred == nil || len(cred.URLs) == 0 {
		t.Fatalf("grant without URLs: %+v", cred)
	}
	u, err := url.Parse(cred.URLs[0])
	if err != nil {
		t.Fatal(err)
	}
	server := u.Opaque
	if server == "" {
		server = u.Host
	}
	t.Logf("granted %s at %s; %d grants for other legs", cred.Username, server, wrongGrants)

	turnc, err := evil.TURN(server, cred.Username, cred.Password, "parley")
	if err != nil {
		t.Fatal(err)
	}
	defer turnc.Close()

	loopAddr, loopGot := relayProbeListener(t, relayHost.Do, "127.0.0.1")
	vpnAddr, vpnGot := relayProbeListener(t, vpnHost.Do, vpnHost.IP(vpn))
	lanAddr, lanGot := relayProbeListener(t, evilHost.Do, evilHost.IP(c.seg))
	var reached []string
	for _, tc := range []struct {
		name string
		addr *net.UDPAddr
	}{
		{"the relay host's loopback", loopAddr},
		{"a network the relay host is on but does not relay on", vpnAddr},
	} {
		if err := turnc.Permit(tc.addr); err == nil {
			reached = append(reached, tc.name)
			t.Errorf("permission granted to %s (%v)", tc.name, tc.addr)
			turnc.Relayed.WriteTo([]byte("through the relay"), tc.addr)
		}
	}
	// Control, last: a host on the relay's own segment is reachable.
	if err := turnc.Permit(lanAddr); err != nil {
		t.Fatalf("permission to an on-link peer refused: %v", err)
	}
	if _, err := turnc.Relayed.WriteTo([]byte("on link"), lanAddr); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lanGot:
	case <-time.After(10 * time.Second):
		t.Fatal("the control datagram to an on-link peer never arrived")
	}
	for name, ch := range map[string]<-chan string{"loopback": loopGot, "vpn": vpnGot} {
		select {
		case m := <-ch:
			t.Errorf("a datagram reached %s through the relay: %q", name, m)
		default:
		}
	}

	// One credential, more allocations: at most its leg's share (2 per relay
	// address; the first is above).
	extra := 0
	for range 6 {
		more, err := evil.TURN(server, cred.Username, cred.Password, "parley")
		if err != nil {
			continue
		}
		defer more.Close()
		extra++
	}
	after := r.counters()
	delta := func(k string) float64 { return after[k] - before[k] }
	t.Logf("wrong grants %d; reached %v; extra allocations %d of 6; call_relay_refused_not_participant %v, turn_refused_peer %v, turn_refused_credential_cap %v",
		wrongGrants, reached, extra, delta("call_relay_refused_not_participant"), delta("turn_refused_peer"), delta("turn_refused_credential_cap"))
	if extra > 1 {
		t.Errorf("%d more allocations with one credential, want at most 1", extra)
	}
	if delta("call_relay_refused_not_participant") < 2 || delta("turn_refused_peer") < 2 {
		t.Errorf("refusals not counted: call_relay_refused_not_participant %v, turn_refused_peer %v",
			delta("call_relay_refused_not_participant"), delta("turn_refused_peer"))
	}
}

// TestRelayRevokedAtHangup: a relayed call across two segments (b relays);
// when a hangs up, the legs tell b, which revokes the leg's credential and
// ends its allocations: b counts the release and the allocations end. Before,
// Revoke was never called: allocations lived until their clients released
// them or their lifetime ran out.
func TestRelayRevokedAtHangup(t *testing.T) {
	c := newCluster(t)
	seg2, err := c.lab.AddSegment("lan2")
	if err != nil {
		t.Fatal(err)
	}
	a := c.start(c.host("a", c.seg), "a", "--audio-in", "null", "--audio-out", "null")
	b := c.start(c.host("b", c.seg, seg2), "b", "--audio-in", "null", "--audio-out", "null")
	cc := c.start(c.host("c", seg2), "c", "--audio-in", "null", "--audio-out", "null")
	a.waitPeerUp(15*time.Second, b, cc)
	cc.waitPeerUp(15*time.Second, a, b)
	id := ringAndAnswer(t, a, cc)
	waitStats(t, a, 15*time.Second, "a relayed path", func(e netlab.Event) bool {
		return e.Str("relay") == b.id && e.Num("frames_sent") > 0
	})
	a.ok(a.Hangup(id))
	eventually(t, 10*time.Second, "b to revoke the relayed leg", func() bool {
		return b.counters()["call_relay_released"] >= 1
	})
	t.Logf("b's relay after the hang-up: %v", b.counters())
}
