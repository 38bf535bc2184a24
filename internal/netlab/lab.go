package netlab

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

const (
	nsPrefix = "prl"
	// netnsDir is where `ip netns add` bind-mounts named namespaces.
	netnsDir = "/var/run/netns"
	// The address plan puts the segment index in the third octet and
	// hostIndex+10 in the fourth, which bounds both.
	maxSegments = 255
	maxHosts    = 244
)

var labSeq atomic.Uint64

// RequireRoot skips the test unless it runs as root, which network namespaces
// need. In CI (env CI non-empty) a skip would silently hide the integration
// tests, so there it fails instead.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("integration tests must run as root in CI")
	}
	t.Skip("SKIPPED (not root): netlab integration tests need root for network namespaces; run them with sudo")
}

// Lab is one isolated network: a switch namespace holding the segments'
// bridges plus one namespace per host. Its methods are safe for concurrent use.
type Lab struct {
	token string // "prl<pid>x<n>", prefix of every namespace name
	sw    string // switch namespace
	dir   string // process logs

	mu         sync.Mutex
	closed     bool
	namespaces []string // only those we created, in creation order
	segments   []*Segment
	hosts      []*Host
	procs      []*Proc
	nextSeg    int
	nextHost   int
	nextProc   int
}

// Segment is one broadcast domain: a bridge in the lab's switch namespace.
type Segment struct {
	Name   string
	Bridge string // bridge device inside the switch namespace
	Subnet string // e.g. "10.77.1.0/24"
	lab    *Lab
	index  int // third octet
}

// New creates an empty lab (just the switch namespace).
func New() (*Lab, error) {
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("netlab: iproute2 needed: %w", err)
	}
	token := fmt.Sprintf("%s%dx%d", nsPrefix, os.Getpid(), labSeq.Add(1))
	dir, err := makeLabDir(token)
	if err != nil {
		return nil, fmt.Errorf("netlab: log dir: %w", err)
	}
	l := &Lab{token: token, sw: token + "-sw", dir: dir}
	if err := l.addNS(l.sw); err != nil {
		l.Close()
		return nil, err
	}
	// The switch is pure L2; without IPv6 on its ports and bridges it sends
	// no router solicitations or MLD reports of its own into the segments.
	if err := writeSysctls(l.sw, map[string]string{
		"net/ipv6/conf/all/disable_ipv6":     "1",
		"net/ipv6/conf/default/disable_ipv6": "1",
	}); err != nil {
		l.Close()
		return nil, fmt.Errorf("netlab: switch ns %s: %w", l.sw, err)
	}
	return l, nil
}

// Dir is the lab's directory for process logs.
func (l *Lab) Dir() string { return l.dir }

// Close kills the processes the lab started and deletes its namespaces. It is
// idempotent and has no error result so that it fits t.Cleanup(lab.Close);
// failures are logged.
func (l *Lab) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	procs, nss := l.procs, l.namespaces
	l.mu.Unlock()

	for _, p := range procs {
		if err := p.Kill(); err != nil {
			slog.Warn("netlab: kill", "proc", p.name, "err", err)
		}
	}
	// Hosts first, switch last: reverse creation order.
	for i := len(nss) - 1; i >= 0; i-- {
		if err := delNS(nss[i]); err != nil {
			slog.Warn("netlab: close", "err", err)
		}
	}
	if os.Getenv("NETLAB_KEEP_LOGS") == "" {
		removeLabDir(l.dir)
	}
}

// AddSegment creates a new bridge in the switch namespace. The k-th segment
// (1-based) gets the subnet 10.77.k.0/24.
func (l *Lab) AddSegment(name string) (*Segment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, errors.New("netlab: lab is closed")
	}
	if l.nextSeg >= maxSegments {
		return nil, fmt.Errorf("netlab: add segment %q: at most %d segments", name, maxSegments)
	}
	l.nextSeg++
	k := l.nextSeg
	seg := &Segment{
		Name:   name,
		Bridge: fmt.Sprintf("br%d", k),
		Subnet: fmt.Sprintf("10.77.%d.0/24", k),
		lab:    l,
		index:  k,
	}
	// Snooping off: the bridge must flood multicast like a dumb switch,
	// otherwise delivery would depend on IGMP/MLD timing.
	if err := ipIn(l.sw, "link", "add", "name", seg.Bridge, "type", "bridge", "mcast_snooping", "0"); err != nil {
		return nil, fmt.Errorf("netlab: add segment %q: %w", name, err)
	}
	if err := ipIn(l.sw, "link", "set", "dev", seg.Bridge, "up"); err != nil {
		return nil, fmt.Errorf("netlab: add segment %q: %w", name, err)
	}
	l.segments = append(l.segments, seg)
	return seg, nil
}

// AddHost creates a host namespace attached to the given segments: interface
// ethI for segs[I], address 10.77.k.(hostIndex+10)/24 on segment k.
func (l *Lab) AddHost(name string, segs ...*Segment) (*Host, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, errors.New("netlab: lab is closed")
	}
	seen := map[*Segment]bool{}
	for _, s := range segs {
		if s == nil || s.lab != l {
			return nil, fmt.Errorf("netlab: add host %q: segment not from this lab", name)
		}
		if seen[s] {
			return nil, fmt.Errorf("netlab: add host %q: attached twice to segment %q", name, s.Name)
		}
		seen[s] = true
	}
	if l.nextHost >= maxHosts {
		return nil, fmt.Errorf("netlab: add host %q: at most %d hosts", name, maxHosts)
	}
	l.nextHost++
	idx := l.nextHost
	h := &Host{
		Name:  name,
		NS:    fmt.Sprintf("%s-h%d%s", l.token, idx, nsSuffix(name)),
		lab:   l,
		index: idx,
	}
	if err := l.addNS(h.NS); err != nil {
		return nil, fmt.Errorf("netlab: add host %q: %w", name, err)
	}
	if err := h.setup(segs); err != nil {
		return nil, fmt.Errorf("netlab: add host %q: %w", name, err)
	}
	l.hosts = append(l.hosts, h)
	return h, nil
}

// Namespaces lists the namespaces the lab created (switch first).
func (l *Lab) Namespaces() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.namespaces...)
}

// addNS creates a namespace and remembers it for Close. A name that already
// exists is an error and is never adopted, so Close only deletes our own.
func (l *Lab) addNS(ns string) error {
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		return fmt.Errorf("netlab: add ns %s: %w: %s", ns, err, bytes.TrimSpace(out))
	}
	l.namespaces = append(l.namespaces, ns)
	return nil
}

func delNS(ns string) error {
	if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
		return fmt.Errorf("netlab: del ns %s: %w: %s", ns, err, bytes.TrimSpace(out))
	}
	return nil
}

// ipIn runs `ip -n NS args...`.
func ipIn(ns string, args ...string) error {
	full := append([]string{"-n", ns}, args...)
	if out, err := exec.Command("ip", full...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(full, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// writeSysctls sets sysctls (paths relative to /proc/sys) inside ns.
// /proc/sys/net resolves against the opening thread's namespace, so this
// needs no sysctl binary and no extra process.
func writeSysctls(ns string, kv map[string]string) error {
	return doInNS(ns, func() error {
		for k, v := range kv {
			if err := os.WriteFile(filepath.Join("/proc/sys", k), []byte(v), 0o644); err != nil {
				return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
			}
		}
		return nil
	})
}

var nsNameRE = regexp.MustCompile(`^` + nsPrefix + `([0-9]+)x[0-9]+`)
var procDirRE = regexp.MustCompile(`^` + nsPrefix + `([0-9]+)$`)

// SweepStale deletes leftovers of earlier runs that died without Close:
// namespaces named prl<pid>x<n>... and $TMPDIR/prl<pid> directories whose pid
// is no longer alive. Anything else, including labs of live processes, is left
// alone. (A pid is judged in this process's pid namespace; don't share
// /var/run/netns between containers that run netlab concurrently.)
func SweepStale() error {
	var errs []error
	entries, err := os.ReadDir(netnsDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("netlab: sweep: %w", err))
	}
	for _, e := range entries {
		m := nsNameRE.FindStringSubmatch(e.Name())
		if m == nil || pidAlive(m[1]) {
			continue
		}
		if err := delNS(e.Name()); err != nil {
			errs = append(errs, err)
		}
	}
	entries, _ = os.ReadDir(os.TempDir())
	for _, e := range entries {
		m := procDirRE.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() || pidAlive(m[1]) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(os.TempDir(), e.Name())); err != nil {
			errs = append(errs, fmt.Errorf("netlab: sweep: %w", err))
		}
	}
	return errors.Join(errs...)
}

func pidAlive(s string) bool {
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		return true // not ours to judge
	}
	if pid == os.Getpid() {
		return true
	}
	// Signal 0 checks existence; EPERM still means the pid exists.
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// processDir holds this process's netlab files: $TMPDIR/prl<pid>.
func processDir() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("%s%d", nsPrefix, os.Getpid()))
}

// procDirMu keeps one lab's removal of the (then empty) process directory
// from racing another lab's creation of its subdirectory.
var procDirMu sync.Mutex

func makeLabDir(token string) (string, error) {
	procDirMu.Lock()
	defer procDirMu.Unlock()
	dir := filepath.Join(processDir(), token)
	return dir, os.MkdirAll(dir, 0o755)
}

func removeLabDir(dir string) {
	procDirMu.Lock()
	defer procDirMu.Unlock()
	_ = os.RemoveAll(dir)
	_ = os.Remove(processDir()) // only succeeds once empty
}

// nsSuffix makes the host name readable in `ip netns list` while keeping the
// namespace name a safe file name.
func nsSuffix(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() >= 12 {
			break
		}
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "-" + b.String()
}
