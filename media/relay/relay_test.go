package relay

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// Two clients allocate with issued credentials and exchange datagrams through
// their relayed addresses, both ways.
func TestRelayExchange(t *testing.T) {
	leakCheck(t)
	logs := &logBuffer{}
	s := startServer(t, Config{Log: logs.logger()})
	ca, cb := s.Issue("c0ffee", "alice"), s.Issue("c0ffee", "bob")
	a, b := mustDial(t, s, ca), mustDial(t, s, cb)

	for _, p := range []*peer{a, b} {
		ra := p.relay.LocalAddr().(*net.UDPAddr)
		if !ra.IP.Equal(net.IPv4(127, 0, 0, 1)) || ra.Port == s.Port() {
			t.Fatalf("relayed address %v: want 127.0.0.1 (where the client reached us), not the listener", ra)
		}
	}
	permit(t, a, b)
	permit(t, b, a)

	var sent uint64
	for i, dir := range [][2]*peer{{a, b}, {b, a}, {a, b}} {
		from, to := dir[0], dir[1]
		payload := append([]byte(fmt.Sprintf("datagram %d ", i)), bytes.Repeat([]byte{0, 0xff, byte(i)}, 300)...)
		if _, err := from.relay.WriteTo(payload, to.relay.LocalAddr()); err != nil {
			t.Fatalf("WriteTo: %v", err)
		}
		got, src := receive(t, to)
		if !bytes.Equal(got, payload) {
			t.Fatalf("datagram %d arrived as %d bytes %q…, want %d bytes", i, len(got), got[:min(16, len(got))], len(payload))
		}
		if src.String() != from.relay.LocalAddr().String() {
			t.Fatalf("datagram %d from %v, want the sender's relayed address %v", i, src, from.relay.LocalAddr())
		}
		sent += uint64(len(payload))
	}

	st := s.Stats()
	// Both ends relay here: each datagram is counted once, when the receiving
	// relayed socket reads it.
	if st["allocations"] != 2 || st["packets_relayed"] != 3 || st["bytes_relayed"] != sent {
		t.Fatalf("stats %v: want 2 allocations, 3 packets, %d bytes", st, sent)
	}
	if l := s.Load(); l.Sessions != 2 {
		t.Fatalf("load %+v, want 2 sessions", l)
	}
	out := logs.String()
	if !strings.Contains(out, "relay: allocation") {
		t.Fatalf("allocations not logged:\n%s", out)
	}
	for _, pw := range []string{ca.Password, cb.Password} {
		if strings.Contains(out, pw) {
			t.Fatal("a password appears in the logs")
		}
	}
}

// Wrong password, forged username, expired and revoked credentials
// are refused and counted; none opens a relayed socket.
func TestRelayRefusals(t *testing.T) {
	leakCheck(t)
	clk := newClock()
	s := startServer(t, Config{Now: clk.Now})

	revoked := s.Issue("call2", "alice")
	s.Revoke("call2")
	expired := s.Issue("call3", "alice")
	clk.Advance(DefaultCredentialTTL)
	good := s.Issue("call1", "alice")
	wrongPassword := good
	wrongPassword.Password = s.ver.password(good.Username + "x")
	forged := good
	forged.Username = strings.Replace(good.Username, "alice", "mallory", 1)
	// (A wrong realm cannot be tried with pion's client: it adopts the realm of
	// the server's 401. TestVerify covers it.)

	for _, tc := range []struct {
		name    string
		cred    Credentials
		counter string
	}{
		{"wrong password", wrongPassword, "refused_auth"},
		{"forged username", forged, "refused_auth"},
		{"revoked", revoked, "refused_revoked"},
		{"expired", expired, "refused_expired"},
	} {
		before := stat(s, tc.counter)
		if p, err := dial(t, s, tc.cred); err == nil {
			p.close()
			t.Fatalf("%s: allocation succeeded", tc.name)
		}
		// The client gave up on our error response, so it was counted already.
		if got := stat(s, tc.counter); got <= before {
			t.Fatalf("%s: %s stayed at %d", tc.name, tc.counter, got)
		}
	}
	if st := s.Stats(); st["allocations"] != 0 {
		t.Fatalf("refused credentials opened relayed sockets: %v", st)
	}
	// A fresh credential still works after all that.
	mustDial(t, s, s.Issue("call4", "alice"))
}

// Revoke ends the call's allocations at once and leaves other calls alone.
func TestRevokeEndsAllocations(t *testing.T) {
	leakCheck(t)
	s := startServer(t, Config{})
	mustDial(t, s, s.Issue("call-a", "alice"))
	other := mustDial(t, s, s.Issue("call-b", "bob"))

	s.Revoke("call-a")
	if l := s.Load(); l.Sessions != 1 {
		t.Fatalf("after revoke: %+v, want 1 session", l)
	}
	// The other call still relays.
	permit(t, other, other)
	if _, err := other.relay.WriteTo([]byte("still here"), other.relay.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if got, _ := receive(t, other); string(got) != "still here" {
		t.Fatalf("other call got %q", got)
	}
	if _, err := dial(t, s, s.Issue("call-a", "carol")); err == nil {
		t.Fatal("a revoked call ID got a new allocation")
	}
}

// An expired credential starts nothing new, but the allocation it started keeps
// working: calls outlast the credential TTL.
func TestExpiredCredentialKeepsItsAllocation(t *testing.T) {
	leakCheck(t)
	clk := newClock()
	s := startServer(t, Config{Now: clk.Now})
	cred := s.Issue("call", "alice")
	a := mustDial(t, s, cred)
	clk.Advance(DefaultCredentialTTL + time.Minute)

	b := mustDial(t, s, s.Issue("call", "bob"))
	permit(t, a, b) // authenticated with alice's now expired credential
	permit(t, b, a)
	if _, err := a.relay.WriteTo([]byte("late"), b.relay.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if got, _ := receive(t, b); string(got) != "late" {
		t.Fatalf("got %q", got)
	}
	before := stat(s, "refused_expired")
	if _, err := dial(t, s, cred); err == nil {
		t.Fatal("a new client allocated with an expired credential")
	}
	if stat(s, "refused_expired") <= before {
		t.Fatal("expired refusal not counted")
	}
}

// MaxSessions caps live allocations; a freed slot can be taken again.
func TestSessionCap(t *testing.T) {
	leakCheck(t)
	s := startServer(t, Config{MaxSessions: 2})
	p1 := mustDial(t, s, s.Issue("call", "alice"))
	mustDial(t, s, s.Issue("call", "bob"))
	if _, err := dial(t, s, s.Issue("call", "carol")); err == nil {
		t.Fatal("third allocation admitted with MaxSessions 2")
	}
	if st := s.Stats(); st["refused_cap"] == 0 || st["allocations"] != 2 {
		t.Fatalf("stats %v: want refused_cap > 0 and 2 allocations", st)
	}
	p1.close()
	waitFor(t, s, "the released slot", func() bool { return s.Load().Sessions == 1 })
	mustDial(t, s, s.Issue("call", "carol"))
	if l := s.Load(); l.Sessions != 2 {
		t.Fatalf("load %+v, want 2 sessions", l)
	}
}

// Traffic above MaxBitsPerSecond is dropped and counted. The clock is frozen,
// so the bucket holds exactly its burst and refills only when the test says.
func TestBandwidthCap(t *testing.T) {
	leakCheck(t)
	clk := newClock()
	const bps = 400_000 // 50 kB/s: burst 12.5 kB
	s := startServer(t, Config{Now: clk.Now, MaxBitsPerSecond: bps})
	burst := bps / 8 * burstWindow.Seconds()
	a := mustDial(t, s, s.Issue("call", "alice"))
	b := mustDial(t, s, s.Issue("call", "bob"))
	permit(t, a, b)
	permit(t, b, a)

	payload := bytes.Repeat([]byte{0x5a}, 1000)
	seen := func() uint64 { return stat(s, "packets_relayed") + stat(s, "dropped_bandwidth") }
	// send pushes n datagrams a → b in batches small enough for loopback socket
	// buffers, each batch accounted for before the next.
	send := func(n int) {
		for sent := 0; sent < n; {
			target := seen()
			for i := 0; i < 10 && sent < n; i++ {
				if _, err := a.relay.WriteTo(payload, b.relay.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				sent++
				target++
			}
			waitFor(t, s, "datagrams accounted", func() bool { return seen() >= target })
		}
	}
	drain := func(n uint64) (delivered int) {
		for range n {
			got, _ := receive(t, b)
			delivered += len(got)
		}
		return delivered
	}

	send(60) // 60 kB at once against a 12.5 kB burst
	passed, dropped := stat(s, "packets_relayed"), stat(s, "dropped_bandwidth")
	delivered := drain(passed)
	t.Logf("burst: %d of 60 datagrams passed (%d bytes), %d dropped", passed, delivered, dropped)
	if float64(delivered) > burst || passed+dropped != 60 || passed != uint64(burst)/1000 {
		t.Fatalf("delivered %d bytes in %d datagrams, dropped %d: want at most the %v-byte burst", delivered, passed, dropped, burst)
	}

	clk.Advance(100 * time.Millisecond) // earns 5000 bytes
	send(10)
	passed2 := stat(s, "packets_relayed") - passed
	delivered2 := drain(passed2)
	t.Logf("after 100 ms: %d of 10 passed (%d bytes)", passed2, delivered2)
	if passed2 != 5 {
		t.Fatalf("%d datagrams passed after a 100 ms refill, want 5", passed2)
	}

	clk.Advance(time.Second)
	if l := s.Load(); l.BitsPerSecond <= 0 || l.BitsPerSecond > bps {
		t.Fatalf("load %+v: want a rate in (0, %d]", l, bps)
	}
}

// SetAddrs opens and closes listeners as addresses come and go; a relayed
// address is on the address the client used.
func TestSetAddrs(t *testing.T) {
	leakCheck(t)
	s := startServer(t, Config{})
	second := mustAddr("127.0.0.2") // all of 127/8 is loopback on Linux
	if err := s.SetAddrs(addrs(loopback, second, mustAddr("::1"))); err != nil {
		t.Fatalf("SetAddrs: %v", err)
	}
	p := mustDialAt(t, fmt.Sprintf("127.0.0.2:%d", s.Port()), s.Issue("call", "alice"))
	if ip := p.relay.LocalAddr().(*net.UDPAddr).IP; !ip.Equal(net.ParseIP("127.0.0.2")) {
		t.Fatalf("relayed on %v, want 127.0.0.2", ip)
	}
	mustDial(t, s, s.Issue("call", "bob"))

	if err := s.SetAddrs(addrs(loopback)); err != nil {
		t.Fatalf("SetAddrs: %v", err)
	}
	if l := s.Load(); l.Sessions != 1 {
		t.Fatalf("after dropping 127.0.0.2: %+v, want its allocation gone", l)
	}
	if err := s.SetAddrs(addrs(loopback, mustAddr("239.255.0.1"))); err == nil {
		t.Fatal("SetAddrs accepted a multicast address")
	}
	if err := s.SetAddrs(addrs(loopback)); err != nil { // unchanged: nothing happens
		t.Fatalf("SetAddrs: %v", err)
	}
}

// Peers outside the policy are refused permission; datagrams from addresses
// without permission and writes into a TURN listener are dropped and counted.
func TestRelayGuards(t *testing.T) {
	leakCheck(t)
	s := startServer(t, Config{})
	a := mustDial(t, s, s.Issue("call", "alice"))
	b := mustDial(t, s, s.Issue("call", "bob"))

	// Permissions only: these requests go to our server, nothing is sent to the
	// addresses themselves.
	for _, ip := range []string{"239.255.0.1", "255.255.255.255", "192.0.2.1"} {
		if err := a.client.CreatePermission(&net.UDPAddr{IP: net.ParseIP(ip), Port: 9}); err == nil {
			t.Fatalf("permission granted for %s", ip)
		}
	}
	if got := stat(s, "refused_peer"); got < 3 {
		t.Fatalf("refused_peer = %d, want 3", got)
	}

	// b asked for no permission: a stranger's datagram must not reach b or spend
	// the budget.
	stranger, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	if _, err := stranger.WriteTo([]byte("let me in"), b.relay.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, "unpermitted drop", func() bool { return stat(s, "dropped_unpermitted") == 1 })

	// a's relayed socket must not feed our own TURN listener.
	permit(t, a, b) // 127.0.0.1, the listener's address too
	listener := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.Port()}
	if _, err := a.relay.WriteTo([]byte("nested"), listener); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, "loop drop", func() bool { return stat(s, "dropped_loop") == 1 })
	if st := s.Stats(); st["packets_relayed"] != 0 {
		t.Fatalf("guarded datagrams were relayed: %v", st)
	}
}

// An urgent call's credentials allocate beyond MaxSessions, up to
// UrgentSessions more; ordinary ones are still refused at the cap.
func TestUrgentBeyondSessionCap(t *testing.T) {
	leakCheck(t)
	s := startServer(t, Config{MaxSessions: 1, MaxSessionsPerHost: 8})
	mustDial(t, s, s.Issue("call", "alice"))
	if _, err := dial(t, s, s.Issue("call2", "bob")); err == nil {
		t.Fatal("an ordinary allocation admitted beyond MaxSessions")
	}
	for i := range UrgentSessions {
		mustDial(t, s, s.IssueUrgent("urgent", fmt.Sprintf("holder%d", i)))
	}
	if _, err := dial(t, s, s.IssueUrgent("urgent", "one-more")); err == nil {
		t.Fatal("an urgent allocation admitted beyond MaxSessions+UrgentSessions")
	}
	if l := s.Load(); l.Sessions != 1+UrgentSessions {
		t.Fatalf("load %+v, want %d sessions", l, 1+UrgentSessions)
	}
}
