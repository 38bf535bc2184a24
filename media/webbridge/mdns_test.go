package webbridge

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"

	"parley/media/audio"
	"parley/media/webbridge/webbridgetest"
)

// inNetns marks the test process re-run inside its own network namespace.
const inNetns = "WEBBRIDGE_TEST_NETNS"

// A browser that hides its host addresses behind mDNS names is found by
// asking for them: the bridge's mDNS query is answered, and the resolved
// name is a host candidate of the bridge's ICE agent. mDNS is multicast, so
// the test runs in a network namespace of its own (root, unshare(1) and
// ip(8) needed), where nothing it sends can leave.
func TestBrowserMDNSNamesResolve(t *testing.T) {
	if os.Getenv(inNetns) == "" {
		if os.Geteuid() != 0 {
			t.Skip("needs root for a network namespace")
		}
		for _, tool := range []string{"unshare", "ip"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("needs %s", tool)
			}
		}
		// pion's mDNS never uses loopback: a veth pair, the bridge on one end and
		// the browser on the other, with the multicast route on the bridge's.
		setup := "ip link set lo up && ip link add wb0 type veth peer name wb1 && " +
			"ip addr add 10.9.0.1/24 dev wb0 && ip addr add 10.9.0.2/24 dev wb1 && " +
			"ip link set wb0 up && ip link set wb1 up && ip route add 224.0.0.0/4 dev wb0 && " +
			`exec "$0" -test.run '^TestBrowserMDNSNamesResolve$' -test.v -test.count=1`
		cmd := exec.Command("unshare", "-n", "sh", "-c", setup, os.Args[0])
		cmd.Env = append(os.Environ(), inNetns+"=1")
		out, err := cmd.CombinedOutput()
		t.Logf("in a network namespace:\n%s", out)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	hostLine := regexp.MustCompile(`(?m)^a=candidate:\S+ \d \S+ \d+ (\S+) \d+ typ host`)
	fc := webbridgetest.Config{Interfaces: func(name string) bool { return name == "wb1" }, MDNS: true}
	f, b := connectWith(t, fc, Config{Interfaces: func(name string) bool { return name == "wb0" }}, func(o string) string {
		hosts := hostLine.FindAllStringSubmatch(o, -1)
		if len(hosts) == 0 {
			t.Fatalf("no host candidate in the offer:\n%s", o)
		}
		for _, h := range hosts {
			if !strings.HasSuffix(h[1], ".local") {
				t.Fatalf("the browser's host candidate shows %s", h[1])
			}
		}
		return o
	})
	f.SendTone(440, 0.3)
	waitFor(t, 15*time.Second, "the browser's audio", func() bool { return b.Stats().PacketsIn >= 10 })
	heard := dropSilence(readPaced(t, b.Source(), 75))
	judgeTone(t, "the call", heard[min(len(heard), audio.FrameSamples):], 440, 0.3)
	var remote []string
	for _, s := range b.pc.GetStats() {
		if c, ok := s.(webrtc.ICECandidateStats); ok && c.Type == webrtc.StatsTypeRemoteCandidate {
			remote = append(remote, c.CandidateType.String()+" "+c.IP)
		}
	}
	t.Logf("remote candidates: %v", remote)
	resolved := false
	for _, r := range remote {
		resolved = resolved || strings.HasPrefix(r, "host ")
	}
	if !resolved {
		t.Error("no mDNS name was resolved into a host candidate")
	}
}
