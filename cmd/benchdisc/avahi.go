package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"parley/internal/netlab"
)

// Discovery next to Avahi, the mDNS/DNS-SD stack a Linux user already runs:
// how long from "a program starts and announces itself" until a program in
// another namespace on the same bridge has it resolved (name → address and
// port). For Parley that is a fresh node's start → a running node's peer_up.
// For Avahi it is `avahi-publish -s` starting → a running `avahi-browse -rp`
// printing the service's resolved ("=") line, both daemons already running
// (as a system service is). Avahi runs in two namespaces of its own, so
// neither stack shares port 5353 with the other inside a namespace.
//
// avahi-daemon needs the D-Bus system bus for its clients (with enable-dbus=no
// avahi-publish and avahi-browse cannot reach it), so each namespace gets a
// private dbus-daemon with a throwaway configuration, and the daemon and its
// clients find it through DBUS_SYSTEM_BUS_ADDRESS. avahi-daemon's pid file
// path is fixed (/run/avahi-daemon/pid), so each one gets a tmpfs over that
// folder in the mount namespace `ip netns exec` already gives it.

type avahiHost struct {
	h      *netlab.Host
	dir    string
	bus    string
	dbus   *exec.Cmd
	daemon *exec.Cmd
}

func startAvahi(h *netlab.Host, seg *netlab.Segment, dir string) (*avahiHost, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	a := &avahiHost{h: h, dir: dir, bus: filepath.Join(dir, "bus")}
	busConf := `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=` + a.bus + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`
	avahiConf := fmt.Sprintf("[server]\nhost-name=%s\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=%s\nenable-dbus=yes\n"+
		"[wide-area]\nenable-wide-area=no\n[publish]\npublish-hinfo=no\npublish-workstation=no\n", "bench-"+h.Name, h.Iface(seg))
	for name, body := range map[string]string{"bus.conf": busConf, "avahi.conf": avahiConf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll("/run/avahi-daemon", 0o755); err != nil {
		return nil, err
	}
	os.Remove(a.bus)
	var err error
	if a.dbus, err = a.start("dbus.log", "dbus-daemon", "--config-file="+filepath.Join(dir, "bus.conf"), "--nofork", "--nopidfile"); err != nil {
		return nil, err
	}
	// Ready when it accepts a connection (a socket file alone could be a
	// leftover of an earlier bus).
	if err := waitFor(10*time.Second, func() bool {
		c, err := net.Dial("unix", a.bus)
		if err == nil {
			c.Close()
		}
		return err == nil
	}); err != nil {
		a.stop()
		return nil, fmt.Errorf("dbus-daemon in %s: %w", h.Name, err)
	}
	if a.daemon, err = a.start("avahi.log", "sh", "-c", "mount -t tmpfs avahi /run/avahi-daemon && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "+filepath.Join(dir, "avahi.conf")); err != nil {
		a.stop()
		return nil, err
	}
	log := filepath.Join(dir, "avahi.log")
	if err := waitFor(15*time.Second, func() bool {
		b, _ := os.ReadFile(log)
		return strings.Contains(string(b), "Server startup complete")
	}); err != nil {
		b, _ := os.ReadFile(log)
		a.stop()
		return nil, fmt.Errorf("avahi-daemon in %s: %w\n%s", h.Name, err, b)
	}
	return a, nil
}

func (a *avahiHost) env() []string {
	return append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS=unix:path="+a.bus)
}

func (a *avahiHost) start(logName, name string, args ...string) (*exec.Cmd, error) {
	log, err := os.Create(filepath.Join(a.dir, logName))
	if err != nil {
		return nil, err
	}
	cmd := a.h.Command(context.Background(), name, args...)
	cmd.Env = a.env()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	go func() { cmd.Wait(); log.Close() }()
	return cmd, nil
}

func (a *avahiHost) stop() {
	for _, c := range []*exec.Cmd{a.daemon, a.dbus} {
		if c != nil && c.Process != nil {
			c.Process.Kill()
		}
	}
}

func waitFor(timeout time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// browser is a long-running `avahi-browse -rp` whose resolved lines are
// timestamped as they arrive.
type browser struct {
	cmd      *exec.Cmd
	mu       sync.Mutex
	resolved map[string]time.Time
}

const benchService = "_parleybench._tcp"

func (a *avahiHost) browse() (*browser, error) {
	cmd := a.h.Command(context.Background(), "avahi-browse", "-rp", benchService)
	cmd.Env = a.env()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &browser{cmd: cmd, resolved: map[string]time.Time{}}
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			// =;iface;IPv4;name;type;domain;host;address;port;txt
			f := strings.Split(s.Text(), ";")
			if len(f) >= 9 && f[0] == "=" {
				b.mu.Lock()
				if _, ok := b.resolved[f[3]]; !ok {
					b.resolved[f[3]] = time.Now()
				}
				b.mu.Unlock()
			}
		}
	}()
	return b, nil
}

func (b *browser) wait(name string, timeout time.Duration) (time.Time, error) {
	var at time.Time
	err := waitFor(timeout, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		t, ok := b.resolved[name]
		at = t
		return ok
	})
	return at, err
}

// compareAvahi runs trials pairs: a Parley node starting on h1 until the node
// running on h2 has it up, then a service published on h3 until the browser
// on h4 has it resolved.
func (b *bench) compareAvahi(mode string, trials int) error {
	if len(b.hosts) < 4 {
		return fmt.Errorf("the comparison with Avahi needs 4 hosts")
	}
	pub, err := startAvahi(b.hosts[2], b.seg, filepath.Join(b.dir, "avahi-pub-"+mode))
	if err != nil {
		return err
	}
	defer pub.stop()
	look, err := startAvahi(b.hosts[3], b.seg, filepath.Join(b.dir, "avahi-browse-"+mode))
	if err != nil {
		return err
	}
	defer look.stop()
	br, err := look.browse()
	if err != nil {
		return err
	}
	defer func() { br.cmd.Process.Kill(); br.cmd.Wait() }()
	observer, err := b.start(b.hosts[1], mode)
	if err != nil {
		return err
	}
	defer observer.Kill()
	load0 := loadAvg()
	var parley, avahi, ratio []time.Duration
	for t := 0; t < trials; t++ {
		joiner, err := b.start(b.hosts[0], mode)
		if err != nil {
			return err
		}
		at, err := seenAt(observer, joiner.id, "peer_up")
		joiner.Kill()
		if err != nil {
			return fmt.Errorf("parley trial %d: %w", t, err)
		}
		p := at.Sub(joiner.start)

		name := fmt.Sprintf("parley-bench-%d-%d", os.Getpid(), t)
		t0 := time.Now()
		publish := b.hosts[2].Command(context.Background(), "avahi-publish", "-s", name, benchService, "9999")
		publish.Env = pub.env()
		if err := publish.Start(); err != nil {
			return err
		}
		got, err := br.wait(name, 15*time.Second)
		publish.Process.Kill()
		publish.Wait()
		if err != nil {
			return fmt.Errorf("avahi trial %d: %s never resolved: %w", t, name, err)
		}
		a := got.Sub(t0)
		parley, avahi = append(parley, p), append(avahi, a)
		ratio = append(ratio, time.Duration(float64(time.Millisecond)*p.Seconds()/a.Seconds()))
	}
	fmt.Printf("\nStart → resolved in another namespace on the same bridge, Parley (--discovery %s) next to Avahi, %d pairs. Load average before: %s, after: %s\n\n",
		mode, trials, load0, loadAvg())
	fmt.Println("| program | n | min | p50 | max |")
	fmt.Println("|---|---|---|---|---|")
	line := func(name string, d []time.Duration) {
		s := slices.Clone(d)
		slices.Sort(s)
		ms := func(x time.Duration) string { return fmt.Sprintf("%.0f ms", float64(x.Microseconds())/1000) }
		fmt.Printf("| %s | %d | %s | %s | %s |\n", name, len(s), ms(s[0]), ms(s[len(s)/2]), ms(s[len(s)-1]))
	}
	line("Parley: fresh node starts → running node's peer_up", parley)
	line("Avahi: avahi-publish -s starts → running avahi-browse -rp prints it resolved", avahi)
	s := slices.Clone(ratio)
	slices.Sort(s)
	fmt.Printf("| Parley ÷ Avahi, per pair (goal: p50 ≤ 1.0×) | %d | %.2f× | %.2f× | %.2f× |\n",
		len(s), float64(s[0])/float64(time.Millisecond), float64(s[len(s)/2])/float64(time.Millisecond), float64(s[len(s)-1])/float64(time.Millisecond))
	return nil
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
