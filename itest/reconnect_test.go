package itest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/internal/netlab"
)

// TestReconnectFromRosterWithoutMulticast: a node restarts on a host whose multicast
// is blocked; it hears no beacon and no mDNS, yet reconnects to its old neighbours
// from the addresses cached in its bbolt roster. A fourth node with discovery off
// joins by address alone and learns the rest of the overlay from peer records.
func TestReconnectFromRosterWithoutMulticast(t *testing.T) {
	c := newCluster(t)
	h1 := c.host("h1")
	n1 := c.start(h1, "n1")
	n2 := c.start(c.host("h2"), "n2")
	n3 := c.start(c.host("h3"), "n3")
	all := []*node{n1, n2, n3}
	for _, n := range all {
		n.waitPeerUp(10*time.Second, all...)
	}
	if err := n1.Quit(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := h1.SetMulticast(c.seg, false); err != nil {
		t.Fatal(err)
	}
	n1 = c.start(h1, "n1")
	n1.waitPeerUp(15*time.Second, n2, n3)
	// Nobody else can know n1 is back (it sent nothing, and its last record was a
	// goodbye), so its first links are its own dials from the roster; then the mesh
	// completes.
	eventually(t, 10*time.Second, "n1 linked to n2 and n3", func() bool {
		l := n1.links()
		return l[n2.id] != nil && l[n3.id] != nil
	})
	outbound := 0
	for _, l := range n1.links() {
		if l.Outbound {
			outbound++
		}
	}
	if outbound == 0 {
		t.Fatalf("n1 has no link it dialed itself: %v", n1.links())
	}
	ctr := n1.counters()
	if ctr["beacon_accepted"] != 0 || ctr["mdns_accepted"] != 0 {
		t.Fatalf("n1 heard multicast discovery although it was blocked: %v", ctr)
	}

	// Add by address: discovery off, one address typed in.
	n4 := c.start(c.host("h4"), "n4", "--discovery", "none")
	if id := must(n4.AddPeer(n2.host.IP(c.seg) + ":48556")).on(n4); id != n2.id {
		t.Fatalf("add_peer answered %v, want id %s", id, n2.id)
	}
	n4.waitPeerUp(10*time.Second, n1, n2, n3)
	if _, err := n4.Within(5 * time.Second).AddPeer("not-an-address"); err == nil {
		t.Fatal("add_peer with a bad address did not fail")
	}
}

// TestSecondInstanceRefused: a second process on the same data dir exits at once with
// a clear message instead of corrupting the store. It needs no namespace: both bind
// loopback only.
func TestSecondInstanceRefused(t *testing.T) {
	bin, err := netlab.BuildBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	first := exec.Command(bin, "--headless", "--data", dir, "--discovery", "none", "--listen", "127.0.0.1:0")
	stdin, err := first.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := &syncBuffer{}
	first.Stdout = stdout
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); first.Wait() }()
	eventually(t, 10*time.Second, "first instance ready", func() bool { return strings.Contains(stdout.String(), `"ready"`) })

	second := exec.Command(bin, "--headless", "--data", dir, "--discovery", "none", "--listen", "127.0.0.1:0")
	second.Stdin = strings.NewReader("")
	start := time.Now()
	out, err := second.CombinedOutput()
	if err == nil {
		t.Fatalf("second instance started: %s", out)
	}
	if !strings.Contains(string(out), "in use by another Parley instance") {
		t.Fatalf("second instance error is not clear: %s", out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second instance took %v to give up", d)
	}
	if _, err := os.Stat(filepath.Join(dir, "identity.key")); err != nil {
		t.Fatal(err)
	}
}
