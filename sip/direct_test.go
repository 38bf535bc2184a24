package sip

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"parley/node"
)

// Direct calls (direct.go) against a fake phone on loopback: a UDP socket
// that answers SIP by copying the request's headers.

// phoneSDP is a minimal PCMU offer or answer from the fake phone.
func phoneSDP(port int) string {
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", port)
}

// read waits for a datagram (request or response) and returns it and its
// source ("" on none within d).
func (p *fakePhone) read(d time.Duration) (string, *net.UDPAddr) {
	buf := make([]byte, 8192)
	p.conn.SetReadDeadline(time.Now().Add(d))
	n, from, err := p.conn.ReadFromUDP(buf)
	if err != nil {
		return "", nil
	}
	return string(buf[:n]), from
}

// readUntil reads until a datagram starting with prefix (skipping
// provisional responses and retransmissions).
func (p *fakePhone) readUntil(prefix string, d time.Duration) (string, *net.UDPAddr) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		msg, from := p.read(time.Until(deadline))
		if strings.HasPrefix(msg, prefix) {
			return msg, from
		}
	}
	p.t.Fatalf("the fake phone got no %q", prefix)
	return "", nil
}

// header is the value of the first header named name in msg.
func header(msg, name string) string {
	for _, line := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// respond answers req as a phone does (To gets a tag; body is SDP if any).
func (p *fakePhone) respond(req string, to *net.UDPAddr, code, body string) {
	me := p.conn.LocalAddr().String()
	msg := fmt.Sprintf("SIP/2.0 %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=phone\r\nCall-ID: %s\r\nCSeq: %s\r\nContact: <sip:bob@%s>\r\n",
		code, header(req, "Via"), header(req, "From"), header(req, "To"), header(req, "Call-ID"), header(req, "CSeq"), me)
	if body != "" {
		msg += "Content-Type: application/sdp\r\n"
	}
	msg += fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := p.conn.WriteToUDP([]byte(msg), to); err != nil {
		p.t.Fatal(err)
	}
}

// invite sends an INVITE from user (no credentials) to sip:target@registrar.
func (p *fakePhone) invite(user, target string) {
	me := p.conn.LocalAddr().String()
	body := phoneSDP(40000)
	msg := fmt.Sprintf("INVITE sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKinv%d\r\nMax-Forwards: 70\r\n"+
		"From: \"Bob\" <sip:%s@%s>;tag=bob\r\nTo: <sip:%s@%s>\r\nCall-ID: inv-%d@x\r\nCSeq: 1 INVITE\r\n"+
		"Contact: <sip:%s@%s>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		target, p.to, me, time.Now().UnixNano(), user, me, target, p.to, time.Now().UnixNano(), user, me, len(body), body)
	if _, err := p.conn.WriteToUDP([]byte(msg), p.to); err != nil {
		p.t.Fatal(err)
	}
}

// ack acknowledges a 200 to the phone's INVITE.
func (p *fakePhone) ack(res string) {
	me := p.conn.LocalAddr().String()
	cseq, _, _ := strings.Cut(header(res, "CSeq"), " ")
	msg := fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKack%d\r\nMax-Forwards: 70\r\n"+
		"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s ACK\r\nContent-Length: 0\r\n\r\n",
		strings.Trim(header(res, "Contact"), "<>"), me, time.Now().UnixNano(), header(res, "From"), header(res, "To"), header(res, "Call-ID"), cseq)
	if _, err := p.conn.WriteToUDP([]byte(msg), p.to); err != nil {
		p.t.Fatal(err)
	}
}

// waitCall waits for n's call_state of call to reach state.
func waitCall(t *testing.T, events <-chan node.Event, call, state string) node.CallState {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if st, ok := ev.(node.CallState); ok && st.Call == call && st.State == state {
				return st
			}
		case <-deadline:
			t.Fatalf("call %s never %s", call, state)
		}
	}
}

// waitCounter waits for n's counter name to reach want.
func waitCounter(t *testing.T, n *node.Node, name string, want uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for n.Stats()[name] < want {
		if time.Now().After(deadline) {
			t.Fatalf("counter %s %d, want %d", name, n.Stats()[name], want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The node calls a phone by URI: INVITE to it, its 200 makes the call active,
// the node's hang-up is a BYE, and the phone's device node goes away after.
func TestCallSIPDirect(t *testing.T) {
	n, registrar := startRegistrar(t)
	events := n.Subscribe()
	p := newFakePhone(t, registrar)
	port := p.conn.LocalAddr().(*net.UDPAddr).Port
	began := time.Now()
	id, err := n.CallSIP(fmt.Sprintf("sip:bob@127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	inv, from := p.readUntil("INVITE sip:bob@127.0.0.1:", 10*time.Second)
	t.Logf("INVITE at the phone %v after CallSIP", time.Since(began).Round(time.Millisecond))
	if !strings.Contains(header(inv, "To"), "sip:bob@127.0.0.1") {
		t.Fatalf("To %q: want the phone's own URI", header(inv, "To"))
	}
	p.respond(inv, from, "200 OK", phoneSDP(40002))
	p.readUntil("ACK ", 5*time.Second)
	st := waitCall(t, events, id, "active")
	if st.Peer == "" {
		t.Fatalf("active call without a peer: %+v", st)
	}
	if err := n.Hangup(id); err != nil {
		t.Fatal(err)
	}
	bye, from := p.readUntil("BYE ", 10*time.Second)
	p.respond(bye, from, "200 OK", "")
	waitCounter(t, n, "sip_device_down", 1)
	if got := n.Stats()["sip_direct_calls"]; got != 1 {
		t.Fatalf("sip_direct_calls %d", got)
	}
}

// Where a direct call may not go.
func TestCallSIPRefused(t *testing.T) {
	n, registrar := startRegistrar(t)
	_, port, _ := net.SplitHostPort(registrar)
	for _, uri := range []string{
		"sip:bob@203.0.113.9",       // public
		"sip:bob@8.8.8.8:5060",      // public
		"sips:bob@127.0.0.1:5999",   // TLS is not spoken
		"tel:+15551234",             // not SIP
		"sip:bob@127.0.0.1:" + port, // this registrar itself
		"sip:bob@127.0.0.1:5999;transport=sctp",
		"sip:bob@" + strings.Repeat("a", 300),
		"",
		"sip:bob@nonexistent.invalid",
	} {
		if id, err := n.CallSIP(uri); err == nil {
			t.Errorf("CallSIP(%q) = %s, want refused", uri, id)
		}
	}
	if got := n.Stats()["sip_direct_refused"]; got != 9 {
		t.Fatalf("sip_direct_refused %d, want 9", got)
	}
	if got := n.Stats()["sip_device_up"]; got != 0 {
		t.Fatalf("%d device nodes started for refused URIs", got)
	}
}

// An INVITE from a phone that did not register: 403 while the setting is
// off (a registered account's INVITE is still challenged); with it on the
// phone gets a device node and its call rings the peer it names.
func TestUnregisteredCaller(t *testing.T) {
	n, registrar := startRegistrar(t)
	events := n.Subscribe()
	p := newFakePhone(t, registrar)
	p.invite("bob", n.ID().String())
	if res, _ := p.readUntil("SIP/2.0 403", 5*time.Second); !strings.Contains(res, "register first") {
		t.Fatalf("unregistered caller: %q", status(res))
	}
	if got := n.Stats()["sip_unregistered_refused"]; got != 1 {
		t.Fatalf("sip_unregistered_refused %d", got)
	}
	p.invite("radio1", n.ID().String())
	p.readUntil("SIP/2.0 407", 5*time.Second)

	if err := n.SetSIPUnregistered(true); err != nil {
		t.Fatal(err)
	}
	if !n.SIPUnregistered() {
		t.Fatal("the setting did not stick")
	}
	p.invite("bob", n.ID().String())
	var in node.CallIncoming
	deadline := time.After(10 * time.Second)
wait:
	for {
		select {
		case ev := <-events:
			if c, ok := ev.(node.CallIncoming); ok {
				in = c
				break wait
			}
		case <-deadline:
			t.Fatal("the host was not rung by the unregistered phone")
		}
	}
	if in.Name != "Bob" {
		t.Fatalf("caller's name %q, want the From display name", in.Name)
	}
	if err := n.Answer(in.Call); err != nil {
		t.Fatal(err)
	}
	ok, _ := p.readUntil("SIP/2.0 200", 10*time.Second)
	if !strings.Contains(ok, "m=audio ") {
		t.Fatalf("200 without SDP: %q", ok)
	}
	p.ack(ok)
	waitCall(t, events, in.Call, "active") // the host's side connected
	if got := n.Stats()["sip_unregistered_accepted"]; got != 1 {
		t.Fatalf("sip_unregistered_accepted %d", got)
	}

	// Hold and resume (hold.go): the phone re-INVITEs a=sendonly, gets
	// a=recvonly, and the peer sees the call held; a=sendrecv resumes it.
	// The same re-INVITE from another address is refused.
	intruder := newFakePhoneAt(t, registrar, net.IPv4(127, 0, 0, 2))
	intruder.reinvite(ok, 2, "sendonly")
	if res, _ := intruder.readUntil("SIP/2.0 ", 5*time.Second); !strings.HasPrefix(status(res), "SIP/2.0 403") {
		t.Fatalf("a re-INVITE from a stranger: %q", status(res))
	}
	p.reinvite(ok, 2, "sendonly")
	res, _ := p.readUntil("SIP/2.0 200", 5*time.Second)
	if !strings.Contains(res, "a=recvonly") {
		t.Fatalf("the answer to a=sendonly: %q", res)
	}
	p.ack(res)
	if st := waitCall(t, events, in.Call, "held"); st.Peer != in.From {
		t.Fatalf("held by %s, want the phone's peer %s", st.Peer, in.From)
	}
	p.reinvite(ok, 3, "sendrecv")
	res, _ = p.readUntil("SIP/2.0 200", 5*time.Second)
	if !strings.Contains(res, "a=sendrecv") {
		t.Fatalf("the answer to a=sendrecv: %q", res)
	}
	p.ack(res)
	if st := waitCall(t, events, in.Call, "active"); st.Reason != "resumed" {
		t.Fatalf("after resuming: %+v", st)
	}
	intruder.bye(ok, 9) // a stranger's BYE does not end the call
	if res, _ := intruder.readUntil("SIP/2.0 ", 5*time.Second); !strings.HasPrefix(status(res), "SIP/2.0 403") {
		t.Fatalf("a BYE from a stranger: %q", status(res))
	}
	p.reinvite(ok, 2, "sendonly") // CSeq going back
	if res, _ := p.readUntil("SIP/2.0 ", 5*time.Second); !strings.HasPrefix(status(res), "SIP/2.0 500") {
		t.Fatalf("a re-INVITE out of order: %q", status(res))
	}
	if err := n.Hangup(in.Call); err != nil {
		t.Fatal(err)
	}
	bye, from := p.readUntil("BYE ", 10*time.Second)
	p.respond(bye, from, "200 OK", "")
	waitCounter(t, n, "sip_device_down", 1)
}

// bye hangs up the dialog that res set up.
func (p *fakePhone) bye(res string, cseq int) {
	me := p.conn.LocalAddr().String()
	msg := fmt.Sprintf("BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKbye%d\r\nMax-Forwards: 70\r\n"+
		"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d BYE\r\nContent-Length: 0\r\n\r\n",
		strings.Trim(header(res, "Contact"), "<>"), me, time.Now().UnixNano(), header(res, "From"), header(res, "To"), header(res, "Call-ID"), cseq)
	if _, err := p.conn.WriteToUDP([]byte(msg), p.to); err != nil {
		p.t.Fatal(err)
	}
}

// reinvite re-offers the fake phone's stream with direction dir in the
// dialog that res (the 200 to its INVITE) set up.
func (p *fakePhone) reinvite(res string, cseq int, dir string) {
	me := p.conn.LocalAddr().String()
	body := strings.Replace(phoneSDP(40000), "o=- 1 1", fmt.Sprintf("o=- 1 %d", cseq), 1) + "a=" + dir + "\r\n"
	msg := fmt.Sprintf("INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKre%d\r\nMax-Forwards: 70\r\n"+
		"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d INVITE\r\nContact: <sip:bob@%s>\r\n"+
		"Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		strings.Trim(header(res, "Contact"), "<>"), me, time.Now().UnixNano(), header(res, "From"), header(res, "To"), header(res, "Call-ID"), cseq, me, len(body), body)
	if _, err := p.conn.WriteToUDP([]byte(msg), p.to); err != nil {
		p.t.Fatal(err)
	}
}

// parseDirectURI never panics, and what it accepts is bounded and usable.
func FuzzParseDirectURI(f *testing.F) {
	for _, seed := range []string{"sip:bob@10.0.0.5", "sip:bob@10.0.0.5:5070;transport=tcp", "sip:[fe80::1%25eth0]:5060",
		"sips:x@y", "sip:@", "sip:bob@host.lan", "tel:+1", "sip:a:b@c:99999", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		d, err := parseDirectURI(raw)
		if err != nil {
			return
		}
		if d.host == "" || d.port <= 0 || d.port > 65535 || len(d.user) > maxDirectUser {
			t.Fatalf("%q accepted as %+v", raw, d)
		}
	})
}
