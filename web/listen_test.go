package web

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestListenOnLinkAddresses: ":port" means loopback plus each link address
// once; zoned link-local addresses (which browsers cannot take) are skipped;
// an address that cannot be bound is skipped while another works.
func TestListenOnLinkAddresses(t *testing.T) {
	lns, err := Listen("127.0.0.1:0", nil)
	if err != nil || len(lns) != 1 {
		t.Fatalf("host:port: %v, %d listeners", err, len(lns))
	}
	taken := lns[0].Addr().(*net.TCPAddr).Port
	defer lns[0].Close()

	// The loopback port is taken; 127.0.0.2 (a link address here) is not.
	port := strconv.Itoa(taken)
	lns, err = Listen(":"+port, []string{"127.0.0.2:48556", "127.0.0.2:1", "[fe80::1%eth0]:48556", "junk"})
	if len(lns) != 1 {
		t.Fatalf("got %d listeners (%v), want one on 127.0.0.2", len(lns), err)
	}
	defer lns[0].Close()
	if got := lns[0].Addr().String(); got != "127.0.0.2:"+port {
		t.Fatalf("listening on %s", got)
	}
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("the loopback failure was not reported: %v", err)
	}
	if _, err := Listen("nonsense", nil); err == nil {
		t.Fatal("an address without a port was taken")
	}
}
