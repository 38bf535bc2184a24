// Command benchhall runs a conference hall on one machine: many real nodes (the
// release build) in network namespaces on one bridge, all started within a few
// seconds, and reports how long until every node sees every other as online, then
// each node's idle CPU, RSS, overlay traffic and links. Needs root.
//
//	go run ./cmd/benchhall -bin bin/parley -nodes 100
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
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "benchhall: needs root (network namespaces)")
		os.Exit(2)
	}
	h := &hall{n: *nodes, spread: *spread, converge: *wait, idle: *idle, logLevel: *logLevel}
	if err := h.run(*bin); err != nil {
		fmt.Fprintln(os.Stderr, "benchhall:", err)
		os.Exit(1)
	}
}

type hall struct {
	n        int
	spread   time.Duration
	converge time.Duration
	idle     time.Duration
	logLevel string

	lab     *netlab.Lab
	bin     string
	dir     string
	hosts   []*netlab.Host
	procs   []*netlab.Proc
	ids     []string
	started []time.Time
	ready   []time.Duration
}

func (h *hall) run(bin string) error {
	lab, bin, err := netlab.Setup(bin)
	if err != nil {
		return err
	}
	defer lab.Close()
	h.lab, h.bin = lab, bin
	restore, err := roomForNeighbours(h.n)
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
	h.procs, h.ids, h.started, h.ready = make([]*netlab.Proc, h.n), make([]string, h.n), make([]time.Time, h.n), make([]time.Duration, h.n)
	defer func() {
		// Quit, not kill: a node run with PARLEY_CPUPROFILE writes its profile
		// on the way out.
		var wg sync.WaitGroup
		for _, p := range h.procs {
			if p != nil && !p.Exited() {
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
	return h.measureIdle()
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
			name := h.hosts[i].Name
			h.started[i] = time.Now()
			p, err := h.hosts[i].Start(h.bin, "--headless", "--data", filepath.Join(h.dir, name), "--name", name,
				"--log-level", h.logLevel, "--discovery", "both", "--web", "off", "--audio-in", "null", "--audio-out", "null")
			if err != nil {
				errs[i] = err
				return
			}
			h.procs[i] = p
			ready, err := p.WaitEvent(60*time.Second, func(e netlab.Event) bool { return e.Name() == "ready" })
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w\n%s", name, err, p.Tail())
				return
			}
			h.ids[i] = ready.Str("id")
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
		for i, p := range h.procs {
			if !full[i].IsZero() {
				continue
			}
			up, at := map[string]bool{}, time.Time{}
			for _, e := range p.Events() {
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
	for i, p := range h.procs {
		if !full[i].IsZero() {
			continue
		}
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
		for j, id := range h.ids {
			if j != i && !up[id] {
				lack = append(lack, h.hosts[j].Name)
			}
		}
		return fmt.Sprintf("; %s (log %s) lacks %s", h.hosts[i].Name, p.LogPath(), strings.Join(lack[:min(10, len(lack))], " "))
	}
	return ""
}

// measureIdle samples CPU time, RSS and interface bytes of every node over h.idle.
func (h *hall) measureIdle() error {
	type sample struct {
		cpu       time.Duration
		bytes     int64
		published uint64
	}
	take := func() ([]sample, error) {
		s := make([]sample, h.n)
		for i, p := range h.procs {
			cpu, err := procstat.CPU(p.PID(), false)
			if err != nil {
				return nil, err
			}
			b, err := h.ifaceBytes(i)
			if err != nil {
				return nil, err
			}
			st, err := p.Request(map[string]any{"cmd": "stats"}, 10*time.Second, "stats")
			if err != nil {
				return nil, err
			}
			c, _ := st["counters"].(map[string]any)
			pub, _ := c["record_published"].(float64)
			s[i] = sample{cpu, b, uint64(pub)}
		}
		return s, nil
	}
	a, err := take()
	if err != nil {
		return err
	}
	t0 := time.Now()
	time.Sleep(h.idle)
	b, err := take()
	if err != nil {
		return err
	}
	wall := time.Since(t0)
	var cpu, rss, traffic, links, records []float64
	for i, p := range h.procs {
		cpu = append(cpu, 100*float64(b[i].cpu-a[i].cpu)/float64(wall))
		traffic = append(traffic, float64(b[i].bytes-a[i].bytes)/wall.Seconds()/1000)
		records = append(records, float64(b[i].published-a[i].published)/wall.Minutes())
		st, err := procstat.ReadStatus(p.PID())
		if err != nil {
			return err
		}
		rss = append(rss, float64(st.RSSKiB)/1000)
		if l, err := linkCount(p); err == nil {
			links = append(links, float64(l))
		}
	}
	fmt.Printf("\nIdle, over %v after convergence:\n\n", h.idle.Round(time.Second))
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
	fmt.Printf("\nall nodes together: %.0f %% of a core\n", total)
	return nil
}

// roomForNeighbours raises the kernel's neighbour-table limits for the run. The
// ARP and NDP tables are one per kernel, shared by every namespace: n hosts on one
// bridge hold about n² entries (each knows the others), and past gc_thresh3 (1,024
// by default, so ~32 hosts) the kernel drops entries, packets wait for addresses it
// no longer resolves, and TCP dials time out. A real hall of n laptops has n
// tables of n entries; this makes the lab behave like one. The old values are put
// back when the run ends.
func roomForNeighbours(n int) (restore func(), err error) {
	var undo []func()
	restore = func() {
		for _, u := range slices.Backward(undo) {
			u()
		}
	}
	need := 4 * n * n
	for _, fam := range []string{"ipv4", "ipv6"} {
		for i, name := range []string{"gc_thresh1", "gc_thresh2", "gc_thresh3"} {
			path := fmt.Sprintf("/proc/sys/net/%s/neigh/default/%s", fam, name)
			old, err := os.ReadFile(path)
			if err != nil {
				restore()
				return nil, err
			}
			cur, _ := strconv.Atoi(strings.TrimSpace(string(old)))
			want := need * (i + 1) / 3
			if cur >= want {
				continue
			}
			if err := os.WriteFile(path, []byte(strconv.Itoa(want)), 0o644); err != nil {
				restore()
				return nil, err
			}
			undo = append(undo, func() { os.WriteFile(path, old, 0o644) })
		}
	}
	return restore, nil
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
