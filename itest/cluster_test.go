// Package itest runs the real parley binary on several network hosts (namespaces on
// bridges, built by internal/netlab) and checks what crosses the network. It needs
// root: it skips loudly without it, and fails instead when CI is set.
package itest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"parley/internal/netlab"
	"parley/internal/testwait"
)

func TestMain(m *testing.M) {
	if os.Geteuid() == 0 {
		if err := netlab.SweepStale(); err != nil {
			fmt.Fprintln(os.Stderr, "itest: sweep stale namespaces:", err)
		}
	}
	os.Exit(m.Run())
}

// cluster is one lab with the parley binary and a data dir per host.
type cluster struct {
	t    *testing.T
	lab  *netlab.Lab
	bin  string
	seg  *netlab.Segment
	dirs map[string]string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	return newClusterWith(t, netlab.BuildBinary)
}

// newPlainCluster runs an ordinary build (no race detector) for tests whose
// assertions are speed or memory figures (see netlab.BuildPlainBinary).
func newPlainCluster(t *testing.T) *cluster {
	t.Helper()
	return newClusterWith(t, netlab.BuildPlainBinary)
}

func newClusterWith(t *testing.T, build func() (string, error)) *cluster {
	t.Helper()
	netlab.RequireRoot(t)
	bin, err := build()
	if err != nil {
		t.Fatal(err)
	}
	lab, err := netlab.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	seg, err := lab.AddSegment("lan")
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{t: t, lab: lab, bin: bin, seg: seg, dirs: map[string]string{}}
}

func (c *cluster) host(name string, segs ...*netlab.Segment) *netlab.Host {
	c.t.Helper()
	if len(segs) == 0 {
		segs = []*netlab.Segment{c.seg}
	}
	h, err := c.lab.AddHost(name, segs...)
	if err != nil {
		c.t.Fatal(err)
	}
	return h
}

// node is one running parley process and what it said about itself.
type node struct {
	*netlab.Proc
	name string
	id   string
	host *netlab.Host
	c    *cluster
}

// start runs parley headless on h; extra flags follow the defaults.
func (c *cluster) start(h *netlab.Host, name string, extra ...string) *node {
	c.t.Helper()
	return c.startMode(h, name, "--headless", extra...)
}

// startMode runs parley on h in a mode: "--headless", or "--control" for the
// window with the same JSON lines on stdin/stdout next to it.
func (c *cluster) startMode(h *netlab.Host, name, mode string, extra ...string) *node {
	c.t.Helper()
	return c.ready(h, name, c.launch(h, name, mode, extra...))
}

// startAll runs parley headless on every host at once and then waits for each to
// be ready, so all of them hear one another's start-up beacons together (as after
// a power cut), not one by one.
func (c *cluster) startAll(hosts []*netlab.Host, names []string, extra ...string) []*node {
	c.t.Helper()
	procs := make([]*netlab.Proc, len(hosts))
	for i, h := range hosts {
		procs[i] = c.launch(h, names[i], "--headless", extra...)
	}
	nodes := make([]*node, len(hosts))
	for i, h := range hosts {
		nodes[i] = c.ready(h, names[i], procs[i])
	}
	return nodes
}

// launch starts the process without waiting for it.
func (c *cluster) launch(h *netlab.Host, name, mode string, extra ...string) *netlab.Proc {
	c.t.Helper()
	dir, ok := c.dirs[name]
	if !ok {
		dir = filepath.Join(c.t.TempDir(), name)
		c.dirs[name] = dir
	}
	args := append([]string{mode, "--data", dir, "--name", name, "--log-level", "debug"}, extra...)
	p, err := h.Start(c.bin, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return p
}

// ready waits for p's ready event and reports the node's state if the test fails.
func (c *cluster) ready(h *netlab.Host, name string, p *netlab.Proc) *node {
	c.t.Helper()
	ready, err := p.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "ready" })
	if err != nil {
		c.t.Fatalf("%s not ready: %v\n%s", name, err, p.Tail())
	}
	n := &node{Proc: p, name: name, id: ready.Str("id"), host: h, c: c}
	c.t.Cleanup(func() {
		if c.t.Failed() {
			c.t.Logf("--- %s (%s) ---\n%s", name, n.id, p.Tail())
			// The counters say what the events do not: what was dropped, and why.
			if !p.Exited() {
				if e, err := p.Request(map[string]any{"cmd": "stats"}, 2*time.Second, "stats"); err == nil {
					c.t.Logf("--- %s counters: %v", name, e["counters"])
				}
			}
		}
	})
	return n
}

// peerID returns the peer.id field of a peer_* / presence event.
func peerID(e netlab.Event) string {
	if p, ok := e["peer"].(map[string]any); ok {
		s, _ := p["id"].(string)
		return s
	}
	return ""
}

func peerField(e netlab.Event, key string) string {
	if p, ok := e["peer"].(map[string]any); ok {
		s, _ := p[key].(string)
		return s
	}
	return ""
}

// waitPeerUp waits until n has reported every other node up (from any time).
func (n *node) waitPeerUp(timeout time.Duration, others ...*node) {
	n.c.t.Helper()
	for _, o := range others {
		if o == n {
			continue
		}
		if _, err := n.WaitEventAny(timeout, func(e netlab.Event) bool {
			return e.Name() == "peer_up" && peerID(e) == o.id
		}); err != nil {
			n.c.t.Fatalf("%s never saw %s up: %v\n%s", n.name, o.name, err, n.Tail())
		}
	}
}

// request sends a command and returns the named reply, failing the test on error.
func (n *node) request(cmd map[string]any, reply string) netlab.Event {
	n.c.t.Helper()
	e, err := n.Request(cmd, 10*time.Second, reply)
	if err != nil {
		n.c.t.Fatalf("%s %v: %v\n%s", n.name, cmd, err, n.Tail())
	}
	return e
}

// counters fetches the node's stats counters.
func (n *node) counters() map[string]float64 {
	e := n.request(map[string]any{"cmd": "stats"}, "stats")
	out := map[string]float64{}
	if m, ok := e["counters"].(map[string]any); ok {
		for k, v := range m {
			f, _ := v.(float64)
			out[k] = f
		}
	}
	return out
}

// roster returns peers by id.
func (n *node) roster() map[string]map[string]any {
	e := n.request(map[string]any{"cmd": "roster"}, "roster")
	out := map[string]map[string]any{}
	list, _ := e["peers"].([]any)
	for _, p := range list {
		if m, ok := p.(map[string]any); ok {
			id, _ := m["id"].(string)
			out[id] = m
		}
	}
	return out
}

// links returns the node's direct links by peer id.
func (n *node) links() map[string]map[string]any {
	e := n.request(map[string]any{"cmd": "links"}, "links")
	out := map[string]map[string]any{}
	list, _ := e["links"].([]any)
	for _, l := range list {
		if m, ok := l.(map[string]any); ok {
			id, _ := m["peer"].(string)
			out[id] = m
		}
	}
	return out
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, timeout, 100*time.Millisecond, what, cond)
}
