package node

import (
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
)

// fakeInterfaces gives the node a machine with two Ethernet ports, loopback and
// a point-to-point link without multicast.
func fakeInterfaces(t *testing.T) {
	t.Helper()
	was := listInterfaces
	listInterfaces = func() ([]net.Interface, error) {
		return []net.Interface{
			{Index: 1, Name: "lo", Flags: net.FlagUp | net.FlagLoopback | net.FlagMulticast},
			{Index: 2, Name: "eth0", Flags: net.FlagUp | net.FlagMulticast},
			{Index: 3, Name: "eth1", Flags: net.FlagMulticast}, // down
			{Index: 4, Name: "tun0", Flags: net.FlagUp | net.FlagPointToPoint},
		}, nil
	}
	t.Cleanup(func() { listInterfaces = was })
}

func newTestNode(t *testing.T, dir string, ifaces ...string) *Node {
	t.Helper()
	n, err := New(Config{DataDir: dir, Name: "test", Listen: "127.0.0.1:0", Ifaces: ifaces,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestChosenInterfacesApplyAtStart(t *testing.T) {
	fakeInterfaces(t)
	dir := t.TempDir()
	n := newTestNode(t, dir)
	if got, byFlag := n.Interfaces(); len(got) != 0 || byFlag {
		t.Fatalf("a new node keeps %v (flag %v), want all", got, byFlag)
	}
	if !n.keepIface(net.Interface{Name: "wlan0"}) {
		t.Error("with nothing chosen an interface was filtered out")
	}
	if err := n.SetInterfaces([]string{"eth1", " eth1"}); err != nil {
		t.Fatal(err)
	}
	// The running node follows the choice at once.
	if n.keepIface(net.Interface{Name: "eth0"}) || !n.keepIface(net.Interface{Name: "eth1"}) || n.keepIfaceName("eth0") {
		t.Error("the running node did not take the new choice")
	}
	n.Stop()

	// The next start without --iface uses the stored choice.
	n = newTestNode(t, dir)
	if got, byFlag := n.Interfaces(); !slices.Equal(got, []string{"eth1"}) || byFlag {
		t.Errorf("after a restart: %v (flag %v), want [eth1] from the settings", got, byFlag)
	}
	if n.keepIface(net.Interface{Name: "eth0"}) || !n.keepIface(net.Interface{Name: "eth1"}) {
		t.Error("discovery's filter does not follow the stored choice")
	}
	list, err := n.NetInterfaces()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ni := range list {
		names = append(names, ni.Name)
	}
	if !slices.Equal(names, []string{"eth0", "eth1"}) {
		t.Errorf("offered %v, want eth0 and eth1 (no loopback, no link without multicast)", names)
	}
	n.Stop()

	// --iface wins over the stored choice, and the choice is kept for later.
	n = newTestNode(t, dir, "eth0")
	if got, byFlag := n.Interfaces(); !slices.Equal(got, []string{"eth0"}) || !byFlag {
		t.Errorf("with --iface eth0: %v (flag %v)", got, byFlag)
	}
	if err := n.SetInterfaces([]string{"eth1"}); err == nil || !strings.Contains(err.Error(), "--iface") {
		t.Errorf("a change under --iface: %v", err)
	}
	n.Stop()
	n = newTestNode(t, dir)
	defer n.Stop()
	if got, _ := n.Interfaces(); !slices.Equal(got, []string{"eth1"}) {
		t.Errorf("a run with --iface changed the stored choice to %v", got)
	}

	// Back to all.
	if err := n.SetInterfaces(nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := n.Interfaces(); len(got) != 0 {
		t.Errorf("cleared choice reads %v", got)
	}
}

func TestSetInterfacesRefusesWhatDiscoveryCannotUse(t *testing.T) {
	fakeInterfaces(t)
	n := newTestNode(t, t.TempDir())
	defer n.Stop()
	for name, want := range map[string]string{
		"wlan9": `no interface "wlan9"`,
		"lo":    "loopback",
		"tun0":  "multicast",
	} {
		err := n.SetInterfaces([]string{"eth0", name})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, want)
		}
	}
	if got, _ := n.Interfaces(); len(got) != 0 {
		t.Errorf("a refused choice was kept: %v", got)
	}
}
