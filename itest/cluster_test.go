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

	"parley/headless/client"
	"parley/internal/netlab"
	"parley/internal/testwait"
	parleynode "parley/node"
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
				if counters, err := p.Within(2 * time.Second).Stats(); err == nil {
					c.t.Logf("--- %s counters: %v", name, counters)
				}
			}
		}
	})
	return n
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
			return e.Name() == "peer_up" && e.PeerID() == o.id
		}); err != nil {
			n.c.t.Fatalf("%s never saw %s up: %v\n%s", n.name, o.name, err, n.Tail())
		}
	}
}

// request sends a hand-made command and returns the named reply, failing the
// test on error. Typed commands go through must and ok.
func (n *node) request(cmd map[string]any, reply string) netlab.Event {
	n.c.t.Helper()
	e, err := n.Request(cmd, 10*time.Second, reply)
	if err != nil {
		n.c.t.Fatalf("%s %v: %v\n%s", n.name, cmd, err, n.Tail())
	}
	return e
}

// ok fails the test when a typed command failed: n.ok(n.Hangup(id)).
func (n *node) ok(err error) {
	n.c.t.Helper()
	if err != nil {
		n.c.t.Fatalf("%s: %v\n%s", n.name, err, n.Tail())
	}
}

// answer is a typed command's result and error; on fails the test on the error.
type answer[T any] struct {
	v   T
	err error
}

// must takes a typed command's two results: must(n.Send(to, text)).on(n).
func must[T any](v T, err error) answer[T] { return answer[T]{v, err} }

// on returns the result, failing the test (with n's tail) on an error.
func (a answer[T]) on(n *node) T {
	n.c.t.Helper()
	n.ok(a.err)
	return a.v
}

// quit asks n to exit and waits for its "bye" (which carries no req, so the
// client cannot wait for it), failing the test without one.
func (n *node) quit() {
	n.c.t.Helper()
	n.ok(n.Client.Quit())
	n.quitted()
}

// quitted waits for the bye a quit command brings, and for the process to exit.
func (n *node) quitted() {
	n.c.t.Helper()
	if _, err := n.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "bye" }); err != nil {
		n.c.t.Fatalf("%s: no bye after quit: %v\n%s", n.name, err, n.Tail())
	}
	// "bye" comes before the process lets go of its data folder: a restart
	// right after it found the store still locked ("data dir is in use").
	select {
	case <-n.exited():
	case <-time.After(10 * time.Second):
		n.c.t.Fatalf("%s: still running 10 s after bye\n%s", n.name, n.Tail())
	}
}

// exited is closed when the node's process has exited.
func (n *node) exited() <-chan struct{} {
	ch := make(chan struct{})
	go func() { n.Wait(); close(ch) }()
	return ch
}

// counters fetches the node's stats counters.
func (n *node) counters() map[string]float64 {
	n.c.t.Helper()
	out := map[string]float64{}
	for k, v := range must(n.Stats()).on(n) {
		out[k] = float64(v)
	}
	return out
}

// roster returns peers by id.
func (n *node) roster() map[string]*parleynode.PeerView {
	n.c.t.Helper()
	out := map[string]*parleynode.PeerView{}
	for _, p := range must(n.Roster()).on(n) {
		out[p.ID] = &p
	}
	return out
}

// links returns the node's direct links by peer id.
func (n *node) links() map[string]*client.Link {
	n.c.t.Helper()
	out := map[string]*client.Link{}
	for _, l := range must(n.Links()).on(n) {
		out[l.Peer] = &l
	}
	return out
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, timeout, 100*time.Millisecond, what, cond)
}
