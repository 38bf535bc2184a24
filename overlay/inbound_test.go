package overlay

import (
	"context"
	"crypto/tls"
	"io"
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"parley/identity"
)

// A ping is echoed only at its documented 16 bytes: a peer sending 1 MiB pings and
// reading the echoes slowly made a node queue 1,024 × 1 MiB per link (issue 16).
// Fails on ca67723: the 17-byte and 1 MiB pings came back as pongs.
func TestPingOnlySixteenBytesEchoed(t *testing.T) {
	b := startNode(t, 2, "bob")
	p := dialRaw(t, 50, b)
	p.roundTrip(1)
	before := b.ov.Stats()
	p.write(AppendFrame(nil, TypePing, make([]byte, pingLen+1)))
	p.write(AppendFrame(nil, TypePing, make([]byte, MaxFrame)))
	p.write(AppendFrame(nil, TypePing, nil))
	// Frames are handled in order: any echo of the bad pings comes before this one.
	ping := appendPing(nil, pingPayload{Nonce: 7})
	p.write(AppendFrame(nil, TypePing, ping))
	var echoed []int
	p.readUntil("the 16-byte ping's pong", func(f Frame) bool {
		if f.Type != TypePong {
			return false
		}
		if string(f.Payload) == string(ping) {
			return true
		}
		echoed = append(echoed, len(f.Payload))
		return false
	})
	if len(echoed) > 0 {
		t.Errorf("pongs of %v bytes echoed, want only the 16-byte ping's", echoed)
	}
	if got := b.ov.Stats()["ping_drop_size"] - before["ping_drop_size"]; got != 3 {
		t.Errorf("ping_drop_size grew by %d, want 3", got)
	}
	if !b.ov.Linked(p.id.ID) {
		t.Fatal("a bad ping cost the link")
	}
}

// bareLink is a link over a pipe whose far end nobody reads until drain is called,
// and whose writer does not run until then: what a peer that never reads looks like.
func bareLink(t *testing.T) (l *Link, drain func()) {
	t.Helper()
	near, far := net.Pipe()
	t.Cleanup(func() { near.Close(); far.Close() })
	l = newLink(near, identity.PeerID{1}, nil, false, time.Now())
	t.Cleanup(l.Close)
	return l, func() {
		go io.Copy(io.Discard, far)
		go l.writeLoop()
	}
}

// Both lanes are bounded in bytes as well as frames; the bytes come back as the
// writer takes frames. Fails on ca67723: all 64 frames of 1 MiB were queued
// (64 MiB; up to 1,024 were, 1 GiB), and 8 on the bulk lane.
func TestLinkQueueBoundedInBytes(t *testing.T) {
	l, drain := bareLink(t)
	big := make([]byte, MaxFrame)
	queued := 0
	for range 64 {
		if err := l.send(TypeRecord, big); err == nil {
			queued++
		} else if err != ErrQueueFull {
			t.Fatal(err)
		}
	}
	frame := frameHeaderLen + MaxFrame
	if want := linkQueueBytes / frame; queued != want {
		t.Errorf("%d frames of 1 MiB queued on the ordinary lane, want %d (%d bytes)", queued, want, linkQueueBytes)
	}
	// Small frames still fit when big ones do not, up to the byte bound.
	if err := l.send(TypePong, make([]byte, pingLen)); err != nil && queued*frame+pingLen+frameHeaderLen <= linkQueueBytes {
		t.Errorf("a pong refused below the bound: %v", err)
	}
	bulk := 0
	for range bulkQueueLen {
		if err := l.sendBulk(context.Background(), FirstBulkType, big, false); err == nil {
			bulk++
		} else if err != ErrQueueFull {
			t.Fatal(err)
		}
	}
	if want := bulkQueueBytes / frame; bulk != want {
		t.Errorf("%d frames of 1 MiB queued on the bulk lane, want %d (%d bytes)", bulk, want, bulkQueueBytes)
	}
	// A waiting bulk sender gets in once the writer frees bytes.
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.sendBulk(ctx, FirstBulkType, big, true) }()
	drain()
	if err := <-done; err != nil {
		t.Fatalf("waiting bulk send: %v", err)
	}
	waitUntil(t, "the lanes to drain", func() bool { return l.queued.Load() == 0 && l.bulkQueued.Load() == 0 })
	if err := l.send(TypeRecord, big); err != nil {
		t.Fatalf("send after the drain: %v", err)
	}
}

// The gate counts connections and handshakes per source and in total, and gives
// each slot back.
func TestInboundGate(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	g := newInboundGate(InboundLimits{PerSource: 3, Total: 5, HandshakesPerSource: 2, Handshakes: 3})
	admit := func(src netip.Addr, want string) {
		t.Helper()
		if got := g.admitConn(src); got != want {
			t.Fatalf("admit %v: %q, want %q", src, got, want)
		}
	}
	admit(a, "")
	admit(a, "")
	admit(a, "handshake_refused_per_source")
	admit(b, "")
	admit(b, "handshake_refused_total")
	g.handshakeDone(a)
	g.handshakeDone(a)
	admit(a, "")
	admit(a, "link_refused_per_source") // 3 connections, one still in its handshake
	g.handshakeDone(a)
	g.handshakeDone(b)
	admit(b, "")
	admit(b, "link_refused_total") // 5 in all
	g.connClosed(a)
	admit(b, "")
	admit(b, "link_refused_per_source")
	for range 2 {
		g.connClosed(a)
	}
	if _, ok := g.bySource[a]; ok {
		t.Error("a source with nothing open is still tracked")
	}
}

// A node accepts at most PerSource connections from one address, refuses the
// rest before TLS, and takes a new one once a slot is free.
func TestInboundLinksCappedPerSource(t *testing.T) {
	b := startNodeCfg(t, 2, "bob", func(c *Config) { c.Inbound = InboundLimits{PerSource: 3} }, nil)
	var peers []*rawPeer
	for i := range 3 {
		peers = append(peers, dialRaw(t, byte(50+i), b))
	}
	for i := range 4 {
		if c, err := tryRaw(t, byte(60+i), b); err == nil {
			c.SetReadDeadline(time.Now().Add(waitLimit))
			if _, err := c.Read(make([]byte, 1)); err == nil {
				t.Fatalf("connection %d beyond the cap got data", i)
			}
		}
	}
	if got := b.ov.Stats()["link_refused_per_source"]; got != 4 {
		t.Errorf("link_refused_per_source %d, want 4", got)
	}
	peers[0].conn.Close()
	waitUntil(t, "the first link to go", func() bool { return !b.ov.Linked(peers[0].id.ID) })
	waitUntil(t, "its slot to be free", func() bool { return gateUse(b, loopback).conns == 2 })
	dialRaw(t, 70, b)
}

// gateUse is what src holds of b's gate.
func gateUse(b *testNode, src netip.Addr) sourceUse {
	b.ov.gate.mu.Lock()
	defer b.ov.gate.mu.Unlock()
	if u := b.ov.gate.bySource[src]; u != nil {
		return *u
	}
	return sourceUse{}
}

// tryRaw is dialRaw for a connection that may be refused: the TLS error, if any.
func tryRaw(t *testing.T, seed byte, to *testNode) (*tls.Conn, error) {
	t.Helper()
	cert, err := testIdentity(t, seed).TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: waitLimit}, "tcp", to.addr().String(), &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
		NextProtos: []string{"parley/1"}, InsecureSkipVerify: true,
	})
	if err == nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, err
}

// TCP connections that never start TLS hold handshake slots, at most
// HandshakesPerSource of them; more are closed at once.
func TestHalfOpenConnectionsCappedPerSource(t *testing.T) {
	b := startNodeCfg(t, 2, "bob", func(c *Config) { c.Inbound = InboundLimits{HandshakesPerSource: 2} }, nil)
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", b.addr().String())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		t.Cleanup(func() { c.Close() })
	}
	waitUntil(t, "two handshakes under way", func() bool { return gateUse(b, loopback).handshakes == 2 })
	c, err := net.Dial("tcp", b.addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(waitLimit))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("third half-open connection: read %v, want it closed (EOF)", err)
	}
	if got := b.ov.Stats()["handshake_refused_per_source"]; got != 1 {
		t.Errorf("handshake_refused_per_source %d, want 1", got)
	}
	// A finished handshake frees its slot: the held ones are closed here, and then
	// a real peer gets in.
	for _, h := range held {
		h.Close()
	}
	waitUntil(t, "the handshake slots to free", func() bool { return gateUse(b, loopback).handshakes == 0 })
	dialRaw(t, 50, b)
}

// AcceptFrom refuses a source before TLS.
func TestAcceptFromRefusesSource(t *testing.T) {
	b := startNodeCfg(t, 2, "bob", func(c *Config) { c.AcceptFrom = func(netip.Addr) bool { return false } }, nil)
	if _, err := tryRaw(t, 50, b); err == nil {
		t.Fatal("handshake completed with a refused source")
	}
	if got := b.ov.Stats()["link_refused_source"]; got != 1 {
		t.Errorf("link_refused_source %d, want 1", got)
	}
}

// A neighbour announcing a record at sequence 2^64-1 and never answering must not
// keep the record from being pulled from an honest announcer, whichever announces
// first. Fails on ca67723: the honest announcer was asked for 2^64-1 (or not at
// all), so the pull never succeeded.
func TestHighSequenceHaveDoesNotSuppressPull(t *testing.T) {
	for _, honestFirst := range []bool{true, false} {
		b := startNode(t, 2, "bob")
		liar := dialRaw(t, 50, b)
		honest := dialRaw(t, 51, b)
		carol := testIdentity(t, 61)
		liar.roundTrip(1)
		honest.roundTrip(1)
		lie := AppendFrame(nil, TypeRecordHave, appendRecordRefs(nil, []recordRef{{ID: carol.ID, Seq: math.MaxUint64}}))
		truth := AppendFrame(nil, TypeRecordHave, appendRecordRefs(nil, []recordRef{{ID: carol.ID, Seq: 10}}))
		if honestFirst {
			honest.write(truth)
			honest.roundTrip(2)
			liar.write(lie)
			liar.roundTrip(2)
		} else {
			liar.write(lie)
			liar.roundTrip(2)
			honest.write(truth)
			honest.roundTrip(2)
		}
		f := honest.readUntil("a want", func(f Frame) bool { return f.Type == TypeRecordWant })
		refs, err := decodeRecordRefs(f.Payload)
		if err != nil || len(refs) != 1 || refs[0] != (recordRef{ID: carol.ID, Seq: 10}) {
			t.Fatalf("honest first %v: the honest announcer was asked for %v (%v), want carol at 10", honestFirst, refs, err)
		}
		honest.write(AppendFrame(nil, TypeRecord, signedRecord(t, carol, 10, "carol")))
		honest.roundTrip(3)
		if rec := b.ov.RecordOf(carol.ID); rec == nil || rec.Seq != 10 {
			t.Fatalf("honest first %v: bob holds %+v after the pull", honestFirst, rec)
		}
		b.halt()
	}
}
