// Command benchhall runs a conference hall on one machine: many real nodes (the
// release build) in network namespaces on one bridge, all started within a few
// seconds, and reports how long until every node sees every other as online, then
// each node's idle CPU, RSS, overlay traffic and links, then the same under a chat
// load with churn, and whether that load lost or duplicated a message. Needs root.
//
//	go run ./cmd/benchhall -bin bin/parley -nodes 100 -load 10m
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"parley/internal/chatload"
	"parley/internal/netlab"
	"parley/internal/procstat"
)

func main() {
	bin := flag.String("bin", "", "parley binary (default: build it)")
	nodes := flag.Int("nodes", 100, "hosts (namespaces), each running one node")
	spread := flag.Duration("spread", 3*time.Second, "starts are spread evenly over this window")
	wait := flag.Duration("converge", 3*time.Minute, "longest wait for every node to see every other")
	idle := flag.Duration("idle", 30*time.Second, "idle period over which CPU and traffic are measured")
	logLevel := flag.String("log-level", "warn", "the nodes' --log-level")
	load := flag.Duration("load", 10*time.Minute, "chat and churn period after the idle one (0: none)")
	rate := flag.Float64("rate", 1, "chat messages per second over all nodes, half 1:1, half in the room")
	roomSize := flag.Int("room", 0, "room members, the first nodes (default min(50, nodes/2))")
	churn := flag.Duration("churn", 15*time.Second, "one node restarted this often during the load (0: never)")
	drain := flag.Duration("drain", 90*time.Second, "longest wait for the last messages after the load stops")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "benchhall: needs root (network namespaces)")
		os.Exit(2)
	}
	if *roomSize == 0 {
		*roomSize = min(50, *nodes/2)
	}
	if *load > 0 && (*roomSize < 2 || *roomSize > *nodes || *nodes < 3) {
		fmt.Fprintln(os.Stderr, "benchhall: the load needs a room of 2 to -nodes members and a third node to churn")
		os.Exit(2)
	}
	h := &hall{n: *nodes, spread: *spread, converge: *wait, idle: *idle, logLevel: *logLevel,
		load: *load, rate: *rate, roomSize: *roomSize, churn: *churn, drain: *drain}
	if err := h.run(*bin); err != nil {
		fmt.Fprintln(os.Stderr, "benchhall:", err)
		os.Exit(1)
	}
	if h.failed {
		os.Exit(1)
	}
}

type hall struct {
	n        int
	spread   time.Duration
	converge time.Duration
	idle     time.Duration
	logLevel string
	load     time.Duration
	rate     float64
	roomSize int
	churn    time.Duration
	drain    time.Duration

	lab     *netlab.Lab
	bin     string
	dir     string
	hosts   []*netlab.Host
	members []*chatload.Member // one per host; its process changes with churn
	started []time.Time
	ready   []time.Duration
	failed  bool // the load lost or duplicated a message, or a restart failed
}

// proc is node i's current process.
func (h *hall) proc(i int) *netlab.Proc {
	p, _, _ := h.members[i].Current()
	return p
}

func (h *hall) run(bin string) error {
	lab, bin, err := netlab.Setup(bin)
	if err != nil {
		return err
	}
	defer lab.Close()
	h.lab, h.bin = lab, bin
	restore, err := netlab.RoomForNeighbours(h.n)
	if err != nil {
		return err
	}
	defer restore()
	seg, err := lab.AddSegment("hall")
	if err != nil {
		return err
	}
	h.dir, err = os.MkdirTemp("", "benchhall")
	if err != nil {
		return err
	}
	defer os.RemoveAll(h.dir)
	for i := 0; i < h.n; i++ {
		host, err := lab.AddHost(fmt.Sprintf("n%d", i+1), seg)
		if err != nil {
			return err
		}
		h.hosts = append(h.hosts, host)
	}
	h.started, h.ready = make([]time.Time, h.n), make([]time.Duration, h.n)
	for _, host := range h.hosts {
		h.members = append(h.members, chatload.NewMember(host.Name, host, []string{"--headless", "--data", filepath.Join(h.dir, host.Name), "--name", host.Name,
			"--log-level", h.logLevel, "--discovery", "both", "--web", "off", "--audio-in", "null", "--audio-out", "null"}))
	}
	defer func() {
		// Quit, not kill: a node run with PARLEY_CPUPROFILE writes its profile
		// on the way out.
		var wg sync.WaitGroup
		for _, m := range h.members {
			if p, _, _ := m.Current(); p != nil && !p.Exited() {
				wg.Go(func() {
					if p.Quit(10*time.Second) != nil {
						p.Kill()
					}
				})
			}
		}
		wg.Wait()
	}()
	fmt.Printf("A hall of %d nodes, one bridge, started over %v (%s)\n\n", h.n, h.spread, time.Now().Format("2006-01-02 15:04"))
	if err := h.startAll(); err != nil {
		return err
	}
	last := slices.MaxFunc(h.started, func(a, b time.Time) int { return a.Compare(b) })
	full, missing := h.waitConverged(last)
	var d []time.Duration
	for _, t := range full {
		if !t.IsZero() {
			d = append(d, max(0, t.Sub(last)))
		}
	}
	fmt.Println("| figure | n | p50 | p99 | max |")
	fmt.Println("|---|---|---|---|---|")
	row("process start → ready", slices.Clone(h.ready), h.n, ms)
	row("last start → node sees every other online", d, h.n, ms)
	if missing > 0 {
		fmt.Printf("\n%d of %d nodes did not see every other within %v\n", missing, h.n, h.converge)
	}
	if err := h.measureIdle(); err != nil {
		return err
	}
	if h.load <= 0 {
		return nil
	}
	return h.measureLoad()
}

// startAll starts every node, spread evenly over h.spread, and waits for each
// one's ready event.
func (h *hall) startAll() error {
	var wg sync.WaitGroup
	errs := make([]error, h.n)
	step := h.spread / time.Duration(max(1, h.n-1))
	for i := range h.hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * step)
			h.started[i] = time.Now()
			ready, err := h.members[i].Start(h.bin, 60*time.Second)
			if err != nil {
				errs[i] = err
				return
			}
			h.ready[i] = ready.Time().Sub(h.started[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// waitConverged polls every node's events until each has seen all others up at
// once; it returns, per node, the time of the peer_up that completed its view (zero
// for a node that never got there) and how many never did.
func (h *hall) waitConverged(last time.Time) ([]time.Time, int) {
	full := make([]time.Time, h.n)
	deadline := last.Add(h.converge)
	for {
		missing := 0
		var worst []string
		for i := range h.members {
			if !full[i].IsZero() {
				continue
			}
			up, at := map[string]bool{}, time.Time{}
			for _, e := range h.proc(i).Events() {
				switch e.Name() {
				case "peer_up":
					up[e.PeerID()] = true
					at = e.Time()
				case "peer_down":
					delete(up, e.PeerID())
				}
			}
			if len(up) >= h.n-1 {
				full[i] = at
				continue
			}
			missing++
			worst = append(worst, fmt.Sprintf("%s:%d", h.hosts[i].Name, len(up)))
		}
		if missing == 0 || time.Now().After(deadline) {
			if missing > 0 {
				fmt.Fprintf(os.Stderr, "benchhall: still short at the deadline: %s\n", strings.Join(worst, " "))
			}
			return full, missing
		}
		fmt.Fprintf(os.Stderr, "%s benchhall: %d nodes short of a full view (%s)%s\n", time.Now().Format("15:04:05"), missing, strings.Join(worst[:min(8, len(worst))], " "), h.whoIsMissing(full))
		time.Sleep(2 * time.Second)
	}
}

// whoIsMissing names the peers the first node short of a full view lacks.
func (h *hall) whoIsMissing(full []time.Time) string {
	for i := range h.members {
		if !full[i].IsZero() {
			continue
		}
		p := h.proc(i)
		up := map[string]bool{}
		for _, e := range p.Events() {
			switch e.Name() {
			case "peer_up":
				up[e.PeerID()] = true
			case "peer_down":
				delete(up, e.PeerID())
			}
		}
		var lack []string
		for j, m := range h.members {
			if j != i && !up[m.ID()] {
				lack = append(lack, h.hosts[j].Name)
			}
		}
		return fmt.Sprintf("; %s (log %s) lacks %s", h.hosts[i].Name, p.LogPath(), strings.Join(lack[:min(10, len(lack))], " "))
	}
	return ""
}

// reading is one node's counters at one moment. A node that is down (churn) has
// only its interface's bytes, which the namespace keeps across restarts.
type reading struct {
	up        bool
	epoch     int // the member's process; CPU is compared within one process only
	cpu       time.Duration
	bytes     int64
	published uint64
}

// read takes every node's counters.
func (h *hall) read() ([]reading, error) {
	r := make([]reading, h.n)
	for i, m := range h.members {
		b, err := h.ifaceBytes(i)
		if err != nil {
			return nil, err
		}
		r[i].bytes = b
		p, epoch, up := m.Current()
		if !up {
			continue
		}
		cpu, err1 := procstat.CPU(p.PID(), false)
		st, err2 := p.Request(map[string]any{"cmd": "stats"}, 10*time.Second, "stats")
		if err1 != nil || err2 != nil {
			continue // killed by churn between Current and here
		}
		c, _ := st["counters"].(map[string]any)
		pub, _ := c["record_published"].(float64)
		r[i] = reading{up: true, epoch: epoch, cpu: cpu, bytes: b, published: uint64(pub)}
	}
	return r, nil
}

// measureIdle samples CPU time, RSS and interface bytes of every node over h.idle.
func (h *hall) measureIdle() error {
	a, err := h.read()
	if err != nil {
		return err
	}
	t0 := time.Now()
	time.Sleep(h.idle)
	b, err := h.read()
	if err != nil {
		return err
	}
	fmt.Printf("\nIdle, over %v after convergence:\n\n", h.idle.Round(time.Second))
	h.perNode(a, b, time.Since(t0))
	return nil
}

// perNode prints the per-node table between two readings: CPU and records only
// for nodes that ran one process throughout, traffic for every node (its
// interface outlives restarts), RSS and links for every node up at the end.
func (h *hall) perNode(a, b []reading, wall time.Duration) {
	var cpu, rss, traffic, links, records []float64
	for i, m := range h.members {
		traffic = append(traffic, float64(b[i].bytes-a[i].bytes)/wall.Seconds()/1000)
		if a[i].up && b[i].up && a[i].epoch == b[i].epoch {
			cpu = append(cpu, 100*float64(b[i].cpu-a[i].cpu)/float64(wall))
			records = append(records, float64(b[i].published-a[i].published)/wall.Minutes())
		}
		p, _, up := m.Current()
		if !up {
			continue
		}
		if st, err := procstat.ReadStatus(p.PID()); err == nil {
			rss = append(rss, float64(st.RSSKiB)/1000)
		}
		if l, err := linkCount(p); err == nil {
			links = append(links, float64(l))
		}
	}
	fmt.Println("| per node | n | p50 | p99 | max |")
	fmt.Println("|---|---|---|---|---|")
	rowF("CPU, % of a core", cpu, "%.2f")
	rowF("RSS, MB", rss, "%.1f")
	rowF("traffic in+out, kB/s", traffic, "%.2f")
	rowF("links", links, "%.0f")
	rowF("own records published a minute", records, "%.1f")
	total := 0.0
	for _, c := range cpu {
		total += c
	}
	fmt.Printf("\nall %d nodes that ran throughout together: %.0f %% of a core\n", len(cpu), total)
}

// measureLoad runs the chat load with churn for h.load and prints the per-node
// table over it, then reads every history back and prints the delivery table.
// The room's members are the first h.roomSize nodes, joined before the load
// starts; 1:1 messages go between random running nodes; the churned node is any
// but the room's first two, round-robin, alternately SIGKILLed and quit cleanly.
func (h *hall) measureLoad() error {
	room := make([]int, h.roomSize)
	for i := range room {
		room[i] = i
	}
	l := &chatload.Load{Bin: h.bin, Members: h.members, RoomMembers: room, Rate: h.rate,
		ChurnEvery: h.churn, Churnable: h.members[2:], DirectToRunning: true,
		ReadyTimeout: 60 * time.Second, Drain: h.drain, Seed: 1, Log: "benchhall"}
	t0 := time.Now()
	if err := l.SetupRoom("hall", 60*time.Second); err != nil {
		return err
	}
	fmt.Printf("\nRoom of %d joined in %v; load for %v: %.1f msg/s, half 1:1, half in the room, a restart every %v\n\n",
		h.roomSize, time.Since(t0).Round(100*time.Millisecond), h.load, h.rate, h.churn)
	a, err := h.read()
	if err != nil {
		return err
	}
	t1 := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { l.Run(stop) })
	time.Sleep(h.load)
	b, err := h.read()
	wall := time.Since(t1)
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	h.perNode(a, b, wall)
	if err := l.RestartDown(); err != nil {
		return err
	}
	res := l.Settle()
	fmt.Printf("\nDelivery (history read back from every recipient after the load):\n\n")
	fmt.Println("| figure | value |")
	fmt.Println("|---|---|")
	res.Table(os.Stdout, h.roomSize)
	res.WriteNotes(os.Stdout)
	h.failed = res.Failed
	if res.Failed {
		fmt.Println("\nFAIL: messages lost or duplicated, or a restart failed")
	}
	return nil
}

// ifaceBytes is eth0's received plus sent bytes, read from /proc/net/dev inside
// the host's namespace (/proc/net follows the reader's namespace; /sys/class/net
// would show the machine's own eth0 unless sysfs were remounted).
func (h *hall) ifaceBytes(i int) (int64, error) {
	out, err := h.hosts[i].Run("cat", "/proc/net/dev")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || name != "eth0" {
			continue
		}
		f := strings.Fields(rest)
		rx, err1 := strconv.ParseInt(f[0], 10, 64)
		tx, err2 := strconv.ParseInt(f[8], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, fmt.Errorf("/proc/net/dev: %q", line)
		}
		return rx + tx, nil
	}
	return 0, fmt.Errorf("%s: no eth0 in /proc/net/dev", h.hosts[i].Name)
}

func linkCount(p *netlab.Proc) (int, error) {
	e, err := p.Request(map[string]any{"cmd": "links"}, 10*time.Second, "links")
	if err != nil {
		return 0, err
	}
	l, _ := e["links"].([]any)
	return len(l), nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }

func row(name string, d []time.Duration, n int, f func(time.Duration) string) {
	if len(d) == 0 {
		fmt.Printf("| %s | 0/%d | – | – | – |\n", name, n)
		return
	}
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	fmt.Printf("| %s | %d/%d | %s | %s | %s |\n", name, len(d), n, f(q(0.5)), f(q(0.99)), f(d[len(d)-1]))
}

func rowF(name string, v []float64, format string) {
	if len(v) == 0 {
		return
	}
	slices.Sort(v)
	q := func(p float64) float64 { return v[min(len(v)-1, int(p*float64(len(v))))] }
	f := func(x float64) string { return fmt.Sprintf(format, x) }
	fmt.Printf("| %s | %d | %s | %s | %s |\n", name, len(v), f(q(0.5)), f(q(0.99)), f(v[len(v)-1]))
}
