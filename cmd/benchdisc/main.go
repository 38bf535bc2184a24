// Command benchdisc measures discovery on real network hosts: five namespaces on one
// bridge, the real binary in each. It prints a table of how long it takes from a
// node's start until it is in every roster (and every peer is in its own), and how
// long a clean leave and a crash take to be noticed. Needs root; `make bench` runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"parley/internal/netlab"
)

func main() {
	bin := flag.String("bin", "", "parley binary (default: build it)")
	trials := flag.Int("trials", 10, "trials per scenario")
	hosts := flag.Int("hosts", 5, "namespaces")
	modes := flag.String("modes", "both,beacon,mdns", "discovery modes to measure")
	flag.StringVar(&logLevel, "log", logLevel, "node log level")
	flag.IntVar(&avahiTrials, "avahi-trials", 10, "pairs in the comparison with Avahi (0: skip it)")
	flag.StringVar(&avahiModes, "avahi-modes", "both,mdns", "Parley's discovery modes in the comparison with Avahi (one table each)")
	flag.BoolVar(&onlyAvahi, "only-avahi", false, "run the comparison with Avahi alone")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "benchdisc: needs root (network namespaces)")
		os.Exit(2)
	}
	if err := run(*bin, *trials, *hosts, strings.Split(*modes, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "benchdisc:", err)
		os.Exit(1)
	}
}

// logLevel is passed to every node (-log debug keeps evidence for outliers; set
// NETLAB_KEEP_LOGS=1 to keep the files).
var logLevel = "warn"

// The comparison with Avahi (avahi.go).
var (
	avahiTrials int
	avahiModes  string
	onlyAvahi   bool
)

type bench struct {
	bin   string
	lab   *netlab.Lab
	hosts []*netlab.Host
	seg   *netlab.Segment
	dir   string
	runID int
}

type proc struct {
	*netlab.Proc
	id    string
	start time.Time
}

func run(bin string, trials, nHosts int, modes []string) error {
	lab, bin, err := netlab.Setup(bin)
	if err != nil {
		return err
	}
	defer lab.Close()
	seg, err := lab.AddSegment("lan")
	if err != nil {
		return err
	}
	b := &bench{bin: bin, lab: lab, seg: seg}
	b.dir, err = os.MkdirTemp("", "benchdisc")
	if err != nil {
		return err
	}
	defer os.RemoveAll(b.dir)
	for i := 0; i < nHosts; i++ {
		h, err := lab.AddHost(fmt.Sprintf("h%d", i+1), seg)
		if err != nil {
			return err
		}
		b.hosts = append(b.hosts, h)
	}
	if onlyAvahi {
		return b.compareAvahiModes()
	}
	fmt.Printf("Discovery on %d network namespaces, one bridge, %d trials per row (%s)\n\n", nHosts, trials, time.Now().Format("2006-01-02"))
	fmt.Println("| scenario | discovery | n | p50 | p90 | max |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, mode := range modes {
		var cold, late, leave, crash, unplug []time.Duration
		for t := 0; t < trials; t++ {
			r, err := b.trial(mode)
			if err != nil {
				return fmt.Errorf("%s trial %d: %w", mode, t, err)
			}
			cold, late, leave = append(cold, r.cold...), append(late, r.late), append(leave, r.leave)
			crash, unplug = append(crash, r.crash), append(unplug, r.unplug)
		}
		row("all start together → in every roster", mode, cold)
		row("one joins a running group → in every roster", mode, late)
		row("clean leave (quit) → peer_down everywhere", mode, leave)
		row("crash (kill -9) → peer_down everywhere", mode, crash)
		row("cable pulled (link down, no FIN) → peer_down everywhere", mode, unplug)
	}
	return b.compareAvahiModes()
}

func (b *bench) compareAvahiModes() error {
	if avahiTrials == 0 {
		return nil
	}
	for _, mode := range strings.Split(avahiModes, ",") {
		if err := b.compareAvahi(mode, avahiTrials); err != nil {
			return err
		}
	}
	return nil
}

func row(name, mode string, d []time.Duration) {
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	ms := func(x time.Duration) string { return fmt.Sprintf("%.0f ms", float64(x.Microseconds())/1000) }
	fmt.Printf("| %s | %s | %d | %s | %s | %s |\n", name, mode, len(d), ms(q(0.5)), ms(q(0.9)), ms(d[len(d)-1]))
}

func (b *bench) start(h *netlab.Host, mode string) (*proc, error) {
	b.runID++
	dir := filepath.Join(b.dir, fmt.Sprintf("d%d", b.runID))
	start := time.Now()
	p, err := h.Start(b.bin, "--headless", "--data", dir, "--name", h.Name, "--discovery", mode, "--log-level", logLevel)
	if err != nil {
		return nil, err
	}
	ready, err := p.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "ready" })
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", h.Name, err, p.Tail())
	}
	return &proc{Proc: p, id: ready.Str("id"), start: start}, nil
}

// seenAt is when observer reported peer up (or down).
func seenAt(observer *proc, peer, event string) (time.Time, error) {
	e, err := observer.WaitEventAny(15*time.Second, func(e netlab.Event) bool { return e.Name() == event && e.PeerID() == peer })
	if err != nil {
		return time.Time{}, fmt.Errorf("%s of %s: %w", event, peer, err)
	}
	return e.Time(), nil
}

// mutual is the moment x is in every roster and every other is in x's.
func mutual(x *proc, others []*proc) (time.Duration, error) {
	var last time.Time
	for _, o := range others {
		if o == x {
			continue
		}
		for _, pair := range [][2]*proc{{o, x}, {x, o}} {
			at, err := seenAt(pair[0], pair[1].id, "peer_up")
			if err != nil {
				return 0, err
			}
			if at.After(last) {
				last = at
			}
		}
	}
	return last.Sub(x.start), nil
}

type result struct {
	cold                       []time.Duration
	late, leave, crash, unplug time.Duration
}

// trial: all start together; then the last quits and restarts as a late joiner;
// then it quits (leave), restarts and is killed (crash), restarts and has its
// interface taken down (unplug: no FIN, only the ping timeout can tell).
func (b *bench) trial(mode string) (r result, err error) {
	procs := make([]*proc, len(b.hosts))
	var wg sync.WaitGroup
	errs := make([]error, len(b.hosts))
	for i, h := range b.hosts {
		wg.Add(1)
		go func() { defer wg.Done(); procs[i], errs[i] = b.start(h, mode) }()
	}
	wg.Wait()
	defer func() {
		for _, p := range procs {
			if p != nil && !p.Exited() {
				p.Kill()
			}
		}
	}()
	for _, e := range errs {
		if e != nil {
			return r, e
		}
	}
	for _, p := range procs {
		d, err := mutual(p, procs)
		if err != nil {
			return r, err
		}
		r.cold = append(r.cold, d)
	}
	last := len(procs) - 1
	lastHost := b.hosts[last]
	rest := procs[:last:last]
	restart := func() (*proc, error) {
		p, err := b.start(lastHost, mode)
		if err != nil {
			return nil, err
		}
		procs[last] = p
		return p, nil
	}

	// Late joiner (fresh identity on the last host).
	if err := procs[last].Quit(3 * time.Second); err != nil {
		return r, err
	}
	joiner, err := restart()
	if err != nil {
		return r, err
	}
	if r.late, err = mutual(joiner, append(rest, joiner)); err != nil {
		return r, err
	}

	// Clean leave: from the quit command to the last peer_down.
	t0 := time.Now()
	if err := joiner.Client.Quit(); err != nil {
		return r, err
	}
	if r.leave, err = lastSeen(rest, joiner.id, t0); err != nil {
		return r, err
	}
	joiner.Wait()

	// Crash.
	victim, err := restart()
	if err != nil {
		return r, err
	}
	if _, err := mutual(victim, append(rest, victim)); err != nil {
		return r, err
	}
	t0 = time.Now()
	victim.Kill()
	if r.crash, err = lastSeen(rest, victim.id, t0); err != nil {
		return r, err
	}

	// Cable pulled.
	victim, err = restart()
	if err != nil {
		return r, err
	}
	if _, err := mutual(victim, append(rest, victim)); err != nil {
		return r, err
	}
	t0 = time.Now()
	if err := lastHost.SetLink(b.seg, false); err != nil {
		return r, err
	}
	r.unplug, err = lastSeen(rest, victim.id, t0)
	victim.Kill()
	if uerr := lastHost.SetLink(b.seg, true); uerr != nil && err == nil {
		err = uerr
	}
	return r, err
}

func lastSeen(observers []*proc, peer string, t0 time.Time) (time.Duration, error) {
	var last time.Time
	for _, o := range observers {
		at, err := seenAt(o, peer, "peer_down")
		if err != nil {
			return 0, err
		}
		if at.After(last) {
			last = at
		}
	}
	return last.Sub(t0), nil
}
