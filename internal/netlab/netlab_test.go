package netlab

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"parley/headless/client"
	"parley/node"
)

func TestMain(m *testing.M) {
	// Leftovers of crashed earlier runs would not disturb us (unique names),
	// but they pile up on developer machines.
	if os.Geteuid() == 0 {
		if err := SweepStale(); err != nil {
			fmt.Fprintln(os.Stderr, "netlab: sweep:", err)
		}
	}
	os.Exit(m.Run())
}

func newLab(t *testing.T) *Lab {
	t.Helper()
	RequireRoot(t)
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// topo: a on s1, c on s2, b dual-homed on both (eth0 on s1, eth1 on s2).
type topo struct {
	lab     *Lab
	s1, s2  *Segment
	a, b, c *Host
}

func newTopo(t *testing.T) topo {
	t.Helper()
	l := newLab(t)
	var tp topo
	tp.lab = l
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	tp.s1, err = l.AddSegment("lan1")
	must(err)
	tp.s2, err = l.AddSegment("lan2")
	must(err)
	tp.a, err = l.AddHost("alice", tp.s1)
	must(err)
	tp.b, err = l.AddHost("bob", tp.s1, tp.s2)
	must(err)
	tp.c, err = l.AddHost("carol", tp.s2)
	must(err)
	return tp
}

func ping(h *Host, ip string) error {
	_, err := h.Run("ping", "-c1", "-W1", ip)
	return err
}

func needPing(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("SKIPPED (no ping): install iputils-ping")
	}
}

func TestAddressPlan(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	for _, c := range []struct {
		h         *Host
		seg       *Segment
		ip, iface string
	}{
		{tp.a, tp.s1, "10.77.1.11", "eth0"},
		{tp.a, tp.s2, "", ""},
		{tp.b, tp.s1, "10.77.1.12", "eth0"},
		{tp.b, tp.s2, "10.77.2.12", "eth1"},
		{tp.c, tp.s2, "10.77.2.13", "eth0"},
	} {
		if got := c.h.IP(c.seg); got != c.ip {
			t.Errorf("%s.IP(%s) = %q, want %q", c.h.Name, c.seg.Name, got, c.ip)
		}
		if got := c.h.Iface(c.seg); got != c.iface {
			t.Errorf("%s.Iface(%s) = %q, want %q", c.h.Name, c.seg.Name, got, c.iface)
		}
	}
	// IPv6 link-local present on every interface; the multicast route only
	// on the first one.
	for _, c := range []struct {
		h     *Host
		iface string
		mcast bool
	}{{tp.a, "eth0", true}, {tp.b, "eth0", true}, {tp.b, "eth1", false}, {tp.c, "eth0", true}} {
		out, err := c.h.Run("ip", "-6", "addr", "show", "dev", c.iface, "scope", "link")
		if err != nil || !strings.Contains(string(out), "fe80::") || strings.Contains(string(out), "tentative") {
			t.Errorf("%s %s: no usable link-local address: %v\n%s", c.h.Name, c.iface, err, out)
		}
		out, err = c.h.Run("ip", "route", "show", "224.0.0.0/4")
		if err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(string(out), "dev "+c.iface); has != c.mcast {
			t.Errorf("%s: multicast route via %s = %v, want %v: %s", c.h.Name, c.iface, has, c.mcast, out)
		}
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	needPing(t)
	tp := newTopo(t)
	type pair struct {
		from *Host
		ip   string
		ok   bool
	}
	cases := []pair{
		{tp.a, tp.b.IP(tp.s1), true},
		{tp.b, tp.a.IP(tp.s1), true},
		{tp.b, tp.c.IP(tp.s2), true},
		{tp.c, tp.b.IP(tp.s2), true},
		// No routing: single-homed hosts cannot reach the other segment,
		// not even via the dual-homed host.
		{tp.a, tp.c.IP(tp.s2), false},
		{tp.a, tp.b.IP(tp.s2), false},
		{tp.c, tp.a.IP(tp.s1), false},
	}
	var wg sync.WaitGroup
	errs := make([]error, len(cases))
	for i, c := range cases {
		wg.Go(func() { errs[i] = ping(c.from, c.ip) })
	}
	wg.Wait()
	for i, c := range cases {
		if (errs[i] == nil) != c.ok {
			t.Errorf("ping %s -> %s: err=%v, want reachable=%v", c.from.Name, c.ip, errs[i], c.ok)
		}
	}
}

func TestUnicastUDP(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	conn := listenUDP(t, tp.b, "udp4", tp.b.IP(tp.s1)+":40100")
	if err := tp.a.SendUDP(tp.b.IP(tp.s1)+":40100", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if got, err := recv(conn, 2*time.Second); err != nil || string(got) != "hi" {
		t.Fatalf("recv = %q, %v", got, err)
	}
	// Subnet broadcast, as beacon discovery might use it.
	bc := listenUDP(t, tp.b, "udp4", "0.0.0.0:40101")
	if err := tp.a.SendUDP("10.77.1.255:40101", []byte("bc")); err != nil {
		t.Fatal(err)
	}
	if got, err := recv(bc, 2*time.Second); err != nil || string(got) != "bc" {
		t.Fatalf("broadcast recv = %q, %v", got, err)
	}
	if err := tp.a.SendUDP(tp.c.IP(tp.s2)+":40100", []byte("x")); !errors.Is(err, syscall.ENETUNREACH) {
		t.Fatalf("send across segments: err = %v, want ENETUNREACH", err)
	}
}

func TestMulticast(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	onB := listenMulticast(t, tp.b, "eth0", "239.255.77.1", 40000)
	onC := listenMulticast(t, tp.c, "eth0", "239.255.77.1", 40000)
	if err := tp.a.SendUDP("239.255.77.1:40000", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if got, err := recv(onB, 2*time.Second); err != nil || string(got) != "hello" {
		t.Fatalf("b recv = %q, %v", got, err)
	}
	if got, err := recv(onC, 300*time.Millisecond); err == nil {
		t.Fatalf("multicast leaked to the other segment: %q", got)
	}

	// IPv6 link-local multicast (mDNS-style), over the link-local addresses.
	onB6 := listenMulticast(t, tp.b, "eth0", "ff02::77", 40001)
	if err := tp.a.SendUDP("[ff02::77]:40001", []byte("hello6")); err != nil {
		t.Fatal(err)
	}
	if got, err := recv(onB6, 2*time.Second); err != nil || string(got) != "hello6" {
		t.Fatalf("b recv v6 = %q, %v", got, err)
	}
}

func TestSetLinkAndMulticast(t *testing.T) {
	t.Parallel()
	needPing(t)
	tp := newTopo(t)
	if err := tp.a.SetLink(tp.s1, false); err != nil {
		t.Fatal(err)
	}
	if err := ping(tp.a, tp.b.IP(tp.s1)); err == nil {
		t.Fatal("ping works with the link down")
	}
	if err := tp.a.SetLink(tp.s1, true); err != nil {
		t.Fatal(err)
	}
	if err := ping(tp.a, tp.b.IP(tp.s1)); err != nil {
		t.Fatalf("ping after link up: %v", err)
	}
	onB := listenMulticast(t, tp.b, "eth0", "239.255.77.2", 40002)
	if err := tp.a.SendUDP("239.255.77.2:40002", []byte("back")); err != nil {
		t.Fatalf("multicast route not restored after link up: %v", err)
	}
	if got, err := recv(onB, 2*time.Second); err != nil || string(got) != "back" {
		t.Fatalf("b recv = %q, %v", got, err)
	}

	// Multicast off on b: nothing reaches it any more, and its own routed
	// multicast sends fail.
	if err := tp.b.SetMulticast(tp.s1, false); err != nil {
		t.Fatal(err)
	}
	out, _ := tp.b.Run("ip", "link", "show", "dev", "eth0")
	if strings.Contains(string(out), "MULTICAST") {
		t.Errorf("MULTICAST flag still set: %s", out)
	}
	if err := tp.a.SendUDP("239.255.77.2:40002", []byte("lost")); err != nil {
		t.Fatal(err)
	}
	if got, err := recv(onB, 300*time.Millisecond); err == nil {
		t.Errorf("b received %q with multicast off", got)
	}
	err := tp.b.Do(func() error {
		c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(239, 255, 77, 2), Port: 40002})
		if err == nil {
			c.Close()
		}
		return err
	})
	if !errors.Is(err, syscall.ENETUNREACH) {
		t.Errorf("routed multicast from b with multicast off: err = %v, want ENETUNREACH", err)
	}
	if err := ping(tp.a, tp.b.IP(tp.s1)); err != nil {
		t.Errorf("unicast broken by multicast off: %v", err)
	}

	if err := tp.b.SetMulticast(tp.s1, true); err != nil {
		t.Fatal(err)
	}
	if err := tp.a.SendUDP("239.255.77.2:40002", []byte("again")); err != nil {
		t.Fatal(err)
	}
	if got, err := recv(onB, 2*time.Second); err != nil || string(got) != "again" {
		t.Fatalf("b recv = %q, %v", got, err)
	}
	if err := tp.b.SendUDP("239.255.77.2:40002", []byte("from b")); err != nil {
		t.Fatal(err)
	}
}

func TestCloseRemovesEverything(t *testing.T) {
	t.Parallel()
	RequireRoot(t)
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := l.AddSegment("lan")
	if err != nil {
		t.Fatal(err)
	}
	h, err := l.AddHost("h", s)
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Start("sleep", "60")
	if err != nil {
		t.Fatal(err)
	}
	nss := l.Namespaces()
	if len(nss) != 2 {
		t.Fatalf("namespaces = %v", nss)
	}
	for _, ns := range nss {
		if !strings.HasPrefix(ns, "prl") {
			t.Errorf("namespace %q lacks the prl prefix", ns)
		}
	}
	l.Close()
	l.Close() // idempotent
	if !p.Exited() {
		t.Error("process survived Close")
	}
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatal(err, string(out))
	}
	for _, ns := range nss {
		if strings.Contains(string(out), ns) {
			t.Errorf("namespace %s still exists after Close", ns)
		}
	}
	if _, err := os.Stat(l.Dir()); !os.IsNotExist(err) && os.Getenv("NETLAB_KEEP_LOGS") == "" {
		t.Errorf("log dir not removed: %v", err)
	}
	if _, err := l.AddSegment("late"); err == nil {
		t.Error("AddSegment after Close succeeded")
	}
}

func TestSweepStale(t *testing.T) {
	t.Parallel()
	RequireRoot(t)
	// A pid that surely is dead: a child we already reaped.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("prl%dx1-sweeptest", cmd.Process.Pid)
	alive := fmt.Sprintf("prl%dx999-sweeptest", os.Getpid())
	foreign := fmt.Sprintf("prlx%d-sweeptest", cmd.Process.Pid) // not our pattern
	for _, ns := range []string{dead, alive, foreign} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatal(err, string(out))
		}
		t.Cleanup(func() { _ = delNS(ns) })
	}
	if err := SweepStale(); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("ip", "netns", "list").CombinedOutput()
	if strings.Contains(string(out), dead) {
		t.Errorf("stale %s not swept", dead)
	}
	for _, ns := range []string{alive, foreign} {
		if !strings.Contains(string(out), ns) {
			t.Errorf("SweepStale deleted %s", ns)
		}
	}
}

// fakeParley speaks the JSON-lines protocol: it echoes each command inside an
// "echo" event, answers "fail" with an error event, prints garbage for
// "garbage", says "bye" and exits on "quit", and logs every line to stderr.
const fakeParley = `
while read -r l; do
  echo "got $l" >&2
  case "$l" in
    *quit*) echo '{"event":"bye","time":"x"}'; exit 0;;
    *fail*) echo '{"event":"error","time":"x","message":"nope"}';;
    *garbage*) echo 'not json';;
    *) printf '{"event":"echo","time":"x","in":%s}\n' "$l";;
  esac
done`

func TestProc(t *testing.T) {
	t.Parallel()
	p, h := startScript(t, fakeParley)

	ev, err := p.Request(map[string]any{"cmd": "roster", "n": 7}, 5*time.Second, "echo")
	if err != nil {
		t.Fatalf("%v\n%s", err, p.Tail())
	}
	in, _ := ev["in"].(map[string]any)
	if ev.Name() != "echo" || ev.Str("time") != "x" || Event(in).Str("cmd") != "roster" || Event(in).Num("n") != 7 {
		t.Fatalf("unexpected event %s", ev)
	}

	// `ip netns exec` must exec the binary in place: PID is sh itself, and it
	// lives in the host's namespace.
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p.PID())); strings.TrimSpace(string(comm)) != "sh" {
		t.Errorf("pid %d is %q, not sh", p.PID(), comm)
	}
	var want, got syscall.Stat_t
	if err := syscall.Stat(filepath.Join(netnsDir, h.NS), &want); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", p.PID()), &got); err != nil {
		t.Fatal(err)
	}
	if want.Ino != got.Ino {
		t.Errorf("process not in the host namespace")
	}

	if ev, err := p.Request(map[string]any{"cmd": "fail"}, 5*time.Second, "echo"); err == nil || ev.Name() != "error" || ev.Str("message") != "nope" {
		t.Errorf("error event: ev=%v err=%v", ev, err)
	}

	if err := p.SendRaw(map[string]any{"cmd": "garbage"}); err != nil {
		t.Fatal(err)
	}
	if ev, err := p.WaitEvent(5*time.Second, func(e Event) bool { return e.Name() == InvalidEvent }); err != nil || ev.Str("raw") != "not json" {
		t.Errorf("invalid line: ev=%v err=%v", ev, err)
	}

	// Consumption: waiting for the later event first leaves the earlier one
	// available.
	isCmd := func(name string) func(Event) bool {
		return func(e Event) bool {
			in, _ := e["in"].(map[string]any)
			return e.Name() == "echo" && Event(in).Str("cmd") == name
		}
	}
	for _, c := range []string{"first", "second"} {
		if err := p.SendRaw(map[string]any{"cmd": c}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.WaitEvent(5*time.Second, isCmd("second")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitEvent(5*time.Second, isCmd("first")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitEvent(100*time.Millisecond, isCmd("first")); err == nil {
		t.Error("an event was returned twice by WaitEvent")
	}
	if _, err := p.WaitEventAny(time.Second, isCmd("first")); err != nil {
		t.Errorf("WaitEventAny misses a consumed event: %v", err)
	}
	if n := len(p.Events()); n != 5 {
		t.Errorf("Events() has %d events, want 5", n)
	}

	if tail := p.Tail(); !strings.Contains(tail, `got {"cmd":"second"}`) || !strings.Contains(tail, "echo") {
		t.Errorf("Tail lacks stderr or events:\n%s", tail)
	}

	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() {
		t.Fatal("not exited after Kill")
	}
	start := time.Now()
	if _, err := p.WaitEvent(10*time.Second, isCmd("never")); err == nil || time.Since(start) > time.Second {
		t.Errorf("WaitEvent on an exited process: err=%v after %v", err, time.Since(start))
	}
	if err := p.SendRaw(map[string]any{"cmd": "x"}); err == nil {
		t.Error("Send to a dead process succeeded")
	}
	if log, err := os.ReadFile(p.LogPath()); err != nil || !bytes.Contains(log, []byte(`got {"cmd":"roster","n":7}`)) {
		t.Errorf("stderr log: %q, %v", log, err)
	}

	// Clean shutdown through quit.
	q, err := h.Start("sh", "-c", fakeParley)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Quit(5 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, q.Tail())
	}
	if _, err := q.WaitEventAny(0, func(e Event) bool { return e.Name() == "bye" }); err != nil {
		t.Errorf("no bye: %v", err)
	}
}

func TestQuitKillsStuckProcess(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	h, err := l.AddHost("h")
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Start("sleep", "60")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Quit(200 * time.Millisecond); err == nil || !p.Exited() {
		t.Fatalf("Quit on a process ignoring stdin: err=%v exited=%v", err, p.Exited())
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "netlab")); err != nil {
		t.Fatalf("module root %s does not contain internal/netlab: %v", root, err)
	}
}

func listenUDP(t *testing.T, h *Host, network, addr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := h.Do(func() error {
		ua, err := net.ResolveUDPAddr(network, addr)
		if err != nil {
			return err
		}
		c, err = net.ListenUDP(network, ua)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func listenMulticast(t *testing.T, h *Host, iface, group string, port int) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := h.Do(func() error {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		ip := net.ParseIP(group)
		network := "udp4"
		if ip.To4() == nil {
			network = "udp6"
		}
		c, err = net.ListenMulticastUDP(network, ifi, &net.UDPAddr{IP: ip, Port: port})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func recv(c *net.UDPConn, timeout time.Duration) ([]byte, error) {
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	buf := make([]byte, 2048)
	n, _, err := c.ReadFromUDP(buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// fakeAnswers answers send with a "sent" carrying the command's req, after an
// event of its own, and every other command with an error.
const fakeAnswers = `
while read -r l; do
  req=$(printf '%s' "$l" | sed -n 's/.*"req":"\([^"]*\)".*/\1/p')
  case "$l" in
    *'"cmd":"send"'*) printf '{"event":"message","id":"X","from":"p","text":"t"}\n{"event":"sent","id":"M1","to":"bob","req":"%s"}\n' "$req";;
    *) printf '{"event":"error","reason":"no","req":"%s"}\n' "$req";;
  esac
done`

// TestProcClient: typed commands take their answers by req, the answers never
// reach WaitEvent, other events do, and an exit fails a command at once.
func TestProcClient(t *testing.T) {
	t.Parallel()
	p, _ := startScript(t, fakeAnswers)
	if id, err := p.Send("bob", "hi"); err != nil || id != "M1" {
		t.Fatalf("Send = %q, %v\n%s", id, err, p.Tail())
	}
	if _, err := p.WaitEvent(5*time.Second, func(e Event) bool { return e.Name() == "message" }); err != nil {
		t.Errorf("the node's own event is not there: %v", err)
	}
	if ev, err := p.WaitEvent(100*time.Millisecond, func(e Event) bool { return e.Name() == "sent" }); err == nil {
		t.Errorf("WaitEvent returned the client's answer %s", ev)
	}
	var ce *client.Error
	if _, err := p.Rooms(); !errors.As(err, &ce) || ce.Reason != "no" {
		t.Errorf("Rooms error = %v", err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := p.Stats(); err == nil || time.Since(start) > time.Second {
		t.Errorf("Stats on an exited process: %v after %v", err, time.Since(start))
	}
}

func TestAs(t *testing.T) {
	up := Event{"event": "peer_up", "time": "x", "peer": map[string]any{"id": "p1", "online": true}}
	if v, ok := As[node.PeerUp](up); !ok || v.Peer.ID != "p1" || !v.Peer.Online {
		t.Errorf("As[PeerUp] = %+v, %v", v, ok)
	}
	if _, ok := As[node.PeerDown](up); ok {
		t.Error("a peer_up decoded as PeerDown")
	}
	bad := Event{"event": "peer_up", "peer": "not an object"}
	if _, ok := As[node.PeerUp](bad); ok {
		t.Error("a peer_up with a string peer decoded")
	}
}

// startScript runs a shell script standing in for parley on a host of a new
// lab's one segment.
func startScript(t *testing.T, script string) (*Proc, *Host) {
	t.Helper()
	l := newLab(t)
	s, err := l.AddSegment("lan")
	if err != nil {
		t.Fatal(err)
	}
	h, err := l.AddHost("h", s)
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Start("sh", "-c", script)
	if err != nil {
		t.Fatal(err)
	}
	return p, h
}
