package sip

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"parley/node"
)

// The registrar on loopback, spoken to with raw UDP datagrams as a phone
// would send them.

func startRegistrar(t *testing.T) (*node.Node, string) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := node.New(node.Config{DataDir: t.TempDir(), Name: "h", Listen: "127.0.0.1:0", AudioIn: "null", AudioOut: "null", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	if err := n.SetSIPAccount("radio1", "rightpass1"); err != nil {
		t.Fatal(err)
	}
	// A free port: bind one, release it, and let the registrar take it.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	s, err := Start(n, Config{Addr: addr, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return n, addr
}

// fakePhone is a UDP socket speaking SIP text.
type fakePhone struct {
	t    *testing.T
	conn *net.UDPConn
	to   *net.UDPAddr
	cseq int
}

func newFakePhone(t *testing.T, registrar string) *fakePhone {
	return newFakePhoneAt(t, registrar, net.IPv4(127, 0, 0, 1))
}

// newFakePhoneAt is a fake phone at another address (127.0.0.2: another
// machine, as far as the registrar can tell).
func newFakePhoneAt(t *testing.T, registrar string, ip net.IP) *fakePhone {
	to, _ := net.ResolveUDPAddr("udp", registrar)
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &fakePhone{t: t, conn: c, to: to}
}

// register sends a REGISTER (auth: an Authorization value or "") and
// returns the response's status line and headers ("" on no answer in 2 s).
func (p *fakePhone) register(contactHost, auth string, expires int) string {
	p.cseq++
	me := p.conn.LocalAddr().String()
	msg := fmt.Sprintf("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d\r\nMax-Forwards: 70\r\n"+
		"From: <sip:radio1@%s>;tag=abc\r\nTo: <sip:radio1@%s>\r\nCall-ID: reg-%s\r\nCSeq: %d REGISTER\r\n"+
		"Contact: <sip:radio1@%s>\r\nExpires: %d\r\n",
		p.to, me, p.cseq, p.to, p.to, me, p.cseq, contactHost, expires)
	if auth != "" {
		msg += "Authorization: " + auth + "\r\n"
	}
	return p.exchange(msg + "Content-Length: 0\r\n\r\n")
}

func (p *fakePhone) exchange(msg string) string {
	if _, err := p.conn.WriteToUDP([]byte(msg), p.to); err != nil {
		p.t.Fatal(err)
	}
	buf := make([]byte, 4096)
	p.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := p.conn.ReadFromUDP(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

var nonceRe = regexp.MustCompile(`nonce="([0-9a-f]+)"`)

// answer computes the Authorization for a 401 with password.
func answer(res, realm, registrar, password string) string {
	m := nonceRe.FindStringSubmatch(res)
	if m == nil {
		return ""
	}
	c := credentials{Username: "radio1", Realm: realm, Nonce: m[1], URI: "sip:" + registrar, QOP: "auth", NC: "00000001", CNonce: "xyz"}
	c.Response = digestResponse(node.SIPHA1("radio1", realm, password), "REGISTER", c)
	return fmt.Sprintf(`Digest username="radio1", realm="%s", nonce="%s", uri="%s", response="%s", qop=auth, nc=%s, cnonce="%s", algorithm=MD5`,
		c.Realm, c.Nonce, c.URI, c.Response, c.NC, c.CNonce)
}

func status(res string) string {
	line, _, _ := strings.Cut(res, "\r\n")
	return line
}

func TestRegistrar(t *testing.T) {
	n, registrar := startRegistrar(t)
	realm := n.SIPRealm()
	p := newFakePhone(t, registrar)

	res := p.register("127.0.0.1:5999", "", 60)
	if !strings.HasPrefix(status(res), "SIP/2.0 401") || !strings.Contains(res, `realm="`+realm+`"`) {
		t.Fatalf("no challenge: %q", res)
	}
	if got := status(p.register("127.0.0.1:5999", answer(res, realm, registrar, "rightpass1"), 60)); got != "SIP/2.0 200 OK" {
		t.Fatalf("right password: %q", got)
	}
	accts, _ := n.SIPAccounts()
	if !accts[0].Registered || !strings.Contains(accts[0].Contact, "127.0.0.1:5999") {
		t.Fatalf("accounts %+v", accts)
	}

	// A contact off the LAN is refused: the node would send voice there.
	res = p.register("127.0.0.1:5999", "", 60)
	if got := status(p.register("203.0.113.9:5060", answer(res, realm, registrar, "rightpass1"), 60)); !strings.HasPrefix(got, "SIP/2.0 403") {
		t.Fatalf("off-LAN contact: %q", got)
	}
	// Too short an expiry: 423 with the minimum.
	res = p.register("127.0.0.1:5999", "", 60)
	if got := p.register("127.0.0.1:5999", answer(res, realm, registrar, "rightpass1"), 5); !strings.HasPrefix(status(got), "SIP/2.0 423") || !strings.Contains(got, "Min-Expires: 60") {
		t.Fatalf("short expiry: %q", got)
	}
	// Expires 0 unregisters.
	res = p.register("127.0.0.1:5999", "", 60)
	if got := status(p.register("127.0.0.1:5999", answer(res, realm, registrar, "rightpass1"), 0)); got != "SIP/2.0 200 OK" {
		t.Fatalf("unregister: %q", got)
	}
	if accts, _ := n.SIPAccounts(); accts[0].Registered {
		t.Fatal("still registered after expires 0")
	}

	// Wrong passwords: 401, 401, then 403, and the right one is refused
	// unchecked during the back-off.
	q := newFakePhone(t, registrar)
	var got []string
	for range failuresBefore403 {
		res := q.register("127.0.0.1:5998", "", 60)
		got = append(got, status(q.register("127.0.0.1:5998", answer(res, realm, registrar, "wrongpass1"), 60))[:11])
	}
	if want := "SIP/2.0 401 SIP/2.0 401 SIP/2.0 403"; strings.Join(got, " ") != want {
		t.Fatalf("wrong passwords answered %v, want %s", got, want)
	}
	res = q.register("127.0.0.1:5998", "", 60)
	if got := status(q.register("127.0.0.1:5998", answer(res, realm, registrar, "rightpass1"), 60)); !strings.HasPrefix(got, "SIP/2.0 403") {
		t.Fatalf("right password during back-off: %q", got)
	}
	if n.Stats()["sip_auth_backoff"] != 1 || n.Stats()["sip_auth_failed"] != 3 {
		t.Fatalf("counters %v", n.Stats())
	}
}

// Malformed datagrams get nothing harmful, a flood from one source is cut to
// its bucket, and the registrar still answers afterwards.
func TestRegistrarBounds(t *testing.T) {
	n, registrar := startRegistrar(t)
	p := newFakePhone(t, registrar)
	for _, junk := range []string{"", "\x00\x01", "REGISTER", "SIP/2.0 200 OK\r\n\r\n", "INVITE sip:x SIP/2.0\r\nVia: x\r\n\r\n",
		strings.Repeat("A", 3000)} {
		p.conn.WriteToUDP([]byte(junk), p.to)
	}
	options := func(i int) string {
		me := p.conn.LocalAddr().String()
		return fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKo%d\r\nMax-Forwards: 70\r\n"+
			"From: <sip:x@%s>;tag=o\r\nTo: <sip:%s>\r\nCall-ID: o-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", p.to, me, i, me, p.to, i)
	}
	for i := range 100 {
		p.conn.WriteToUDP([]byte(options(i)), p.to)
	}
	answered := 0
	buf := make([]byte, 4096)
	for {
		p.conn.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := p.conn.ReadFromUDP(buf); err != nil {
			break
		}
		answered++
	}
	// The burst, plus what the bucket refilled while the 100 were handled.
	if answered < requestBurst-1 || answered > requestBurst+15 {
		t.Fatalf("%d of 100 OPTIONS answered, want about %d", answered, requestBurst)
	}
	if n.Stats()["sip_flood_dropped"] < 50 {
		t.Fatalf("flood counter %d", n.Stats()["sip_flood_dropped"])
	}
	time.Sleep(time.Second) // the bucket refills
	if got := status(p.exchange(options(1000))); got != "SIP/2.0 200 OK" {
		t.Fatalf("after the flood: %q", got)
	}
}

// TCP too: a REGISTER over a TCP connection is challenged like one over UDP.
func TestRegistrarOverTCP(t *testing.T) {
	n, registrar := startRegistrar(t)
	c, err := net.DialTimeout("tcp", registrar, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	me := c.LocalAddr().String()
	fmt.Fprintf(c, "REGISTER sip:%s;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bKt1\r\nMax-Forwards: 70\r\n"+
		"From: <sip:radio1@%s>;tag=t\r\nTo: <sip:radio1@%s>\r\nCall-ID: tcp-1\r\nCSeq: 1 REGISTER\r\n"+
		"Contact: <sip:radio1@%s;transport=tcp>\r\nContent-Length: 0\r\n\r\n", registrar, me, registrar, registrar, me)
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4096)
	k, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if res := string(buf[:k]); !strings.HasPrefix(res, "SIP/2.0 401") || !strings.Contains(res, n.SIPRealm()) {
		t.Fatalf("over TCP: %q", res)
	}
}
