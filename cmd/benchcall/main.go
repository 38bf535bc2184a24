// Command benchcall measures voice calls between real network hosts (network
// namespaces on one bridge, the real parley binary in each, driven headless):
//
//   - set-up: from the call command to the callee's first audio packet, and
//     from the answer command to the caller's first audio packet, over n calls;
//   - CPU: each side's process CPU during a 10 s 1:1 call, minus what the same
//     processes use idle for 10 s, as a share of one core;
//   - a 4-party mesh and a 5-party mixed call: CPU and interface bytes per
//     party over 10 s.
//
// It needs root. Audio comes from tone sources and goes to the null sink, so
// no device buffers are involved.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"parley/headless/client"
	"parley/internal/netlab"
	"parley/internal/procstat"
	"parley/node"
)

func main() {
	bin := flag.String("bin", "", "parley binary (default: build it)")
	calls := flag.Int("n", 20, "calls for the set-up figure")
	window := flag.Duration("window", 10*time.Second, "measurement window for CPU and bandwidth")
	groups := flag.Bool("groups", true, "also measure the 4-party mesh and the 5-party mixed call (false: profile a 1:1 call alone)")
	flag.IntVar(&bareRounds, "baresip-rounds", 3, "rounds of the comparison with baresip (0: skip it)")
	flag.BoolVar(&onlyBaresip, "only-baresip", false, "run the comparison with baresip alone")
	probeRounds := flag.Int("probe", 0, "only time Parley's 1:1 call this many rounds, no baresip (probe.go)")
	sip := flag.Bool("sip", false, "measure SIP phone calls through a Parley registrar instead (sip.go); -baresip-rounds rounds")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "benchcall: needs root (network namespaces)")
		os.Exit(2)
	}
	run := run
	if *probeRounds > 0 {
		run = func(bin string, _ int, window time.Duration, _ bool) error { return probe(bin, *probeRounds, window) }
	}
	if *sip {
		run = func(bin string, _ int, window time.Duration, _ bool) error { return runSIP(bin, bareRounds, window) }
	}
	if err := run(*bin, *calls, *window, *groups); err != nil {
		fmt.Fprintln(os.Stderr, "benchcall:", err)
		os.Exit(1)
	}
}

type proc struct {
	*netlab.Proc
	name string
	id   string
	host *netlab.Host
	seg  *netlab.Segment
}

type lab struct {
	*netlab.Lab
	bin string
	seg *netlab.Segment
	dir string
}

// newLab sets up the namespaces' lab with one segment and a temporary folder
// named after prefix; close removes both.
func newLab(bin, prefix string) (*lab, error) {
	nl, bin, err := netlab.Setup(bin)
	if err != nil {
		return nil, err
	}
	seg, err := nl.AddSegment("lan")
	if err != nil {
		nl.Close()
		return nil, err
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		nl.Close()
		return nil, err
	}
	return &lab{Lab: nl, bin: bin, seg: seg, dir: dir}, nil
}

func (l *lab) close() {
	os.RemoveAll(l.dir)
	l.Lab.Close()
}

func (l *lab) start(name string, tone int) (*proc, error) {
	h, err := l.AddHost(name, l.seg)
	if err != nil {
		return nil, err
	}
	p, err := h.Start(l.bin, "--headless", "--data", filepath.Join(l.dir, name), "--name", name, "--log-level", "warn",
		"--audio-in", fmt.Sprintf("tone:%d", tone), "--audio-out", "null")
	if err != nil {
		return nil, err
	}
	ready, err := p.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "ready" })
	if err != nil {
		return nil, err
	}
	return &proc{Proc: p, name: name, id: ready.Str("id"), host: h, seg: l.seg}, nil
}

// bareRounds and onlyBaresip: the comparison with baresip (baresip.go).
var (
	bareRounds  int
	onlyBaresip bool
)

func run(bin string, calls int, window time.Duration, groups bool) error {
	l, err := newLab(bin, "benchcall")
	if err != nil {
		return err
	}
	defer l.close()
	var ps []*proc
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		p, err := l.start(name, 440+110*i)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	// Quit rather than kill at the end, so nodes started with PARLEY_CPUPROFILE
	// write their profiles.
	defer func() {
		for _, p := range ps {
			_ = p.Quit(5 * time.Second)
		}
	}()
	for _, p := range ps {
		for _, o := range ps {
			if o != p {
				if err := waitUp(p, o); err != nil {
					return err
				}
			}
		}
	}
	fmt.Printf("Voice calls between network namespaces on one bridge (%s)\n\n", time.Now().Format("2006-01-02"))
	if bareRounds > 0 {
		if err := compareBaresip(ps[0], ps[1], filepath.Join(l.dir, "baresip"), window, bareRounds); err != nil {
			return err
		}
	}
	if onlyBaresip {
		return nil
	}
	if err := setup(ps[0], ps[1], calls); err != nil {
		return err
	}
	if err := cpuOneToOne(ps[0], ps[1], window); err != nil {
		return err
	}
	if !groups {
		return nil
	}
	if err := group(ps[:4], window); err != nil {
		return err
	}
	return group(ps, window)
}

func waitUp(p, o *proc) error {
	_, err := p.WaitEventAny(20*time.Second, func(e netlab.Event) bool {
		up, ok := netlab.As[node.PeerUp](e)
		return ok && up.Peer.ID == o.id
	})
	if err != nil {
		return fmt.Errorf("%s never saw %s: %w", p.name, o.name, err)
	}
	return nil
}

// place calls to from the first process, has the others answer, and waits
// until every leg plays audio. It returns the call ID.
func place(caller *proc, callees []*proc) (string, error) {
	var ids []string
	for _, c := range callees {
		ids = append(ids, c.id)
	}
	id, err := caller.Call(ids...)
	if err != nil {
		return "", fmt.Errorf("call refused: %w", err)
	}
	for _, c := range callees {
		if _, err := c.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "call_incoming" && e.Str("call") == id }); err != nil {
			return "", fmt.Errorf("%s not rung: %w", c.name, err)
		}
		if err := c.Answer(id); err != nil {
			return "", err
		}
	}
	return id, nil
}

func hangup(p *proc, id string, others []*proc) error {
	// An error answer (the call already ended for p) is no failure: the
	// ended state below is what counts.
	if err := p.Hangup(id); err != nil && !errors.As(err, new(*client.Error)) {
		return err
	}
	for _, o := range append([]*proc{p}, others...) {
		if _, err := o.WaitEvent(10*time.Second, func(e netlab.Event) bool {
			return e.Name() == "call_state" && e.Str("call") == id && e.Str("state") == "ended"
		}); err != nil {
			return fmt.Errorf("%s: call did not end: %w", o.name, err)
		}
	}
	return nil
}

// setup times n calls: call command → callee's first audio packet (the
// callee's setup_ms counts from the invite's arrival, so the command's own
// trip is added from the event clock), and answer → caller's first audio.
func setup(a, b *proc, n int) error {
	var toCallee, toCaller []time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		id, err := place(a, []*proc{b})
		if err != nil {
			return err
		}
		answered := time.Now()
		stat := func(p *proc) (netlab.Event, error) {
			return p.WaitEvent(10*time.Second, func(e netlab.Event) bool {
				return e.Name() == "call_stats" && e.Str("call") == id && e.Num("setup_ms") > 0
			})
		}
		sb, err := stat(b)
		if err != nil {
			return err
		}
		sa, err := stat(a)
		if err != nil {
			return err
		}
		// b's setup_ms runs from the invite's arrival at b to b's first packet.
		inc, _ := b.WaitEventAny(time.Second, func(e netlab.Event) bool { return e.Name() == "call_incoming" && e.Str("call") == id })
		toCallee = append(toCallee, inc.Time().Sub(t0)+time.Duration(sb.Num("setup_ms")*float64(time.Millisecond)))
		// a's setup_ms runs from its invite to its first packet; what follows
		// the answer command is that minus the time until the answer was sent.
		toCaller = append(toCaller, time.Duration(sa.Num("setup_ms")*float64(time.Millisecond))-answered.Sub(t0))
		if err := hangup(a, id, []*proc{b}); err != nil {
			return err
		}
	}
	slices.Sort(toCallee)
	slices.Sort(toCaller)
	fmt.Printf("Call set-up, %d calls (budget: offer → first audio < 300 ms)\n\n", n)
	fmt.Println("| interval | p50 | p90 | max |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| call command → callee's first audio packet (callee answers at once) | %s | %s | %s |\n", ms(q(toCallee, .5)), ms(q(toCallee, .9)), ms(toCallee[len(toCallee)-1]))
	fmt.Printf("| answer command → caller's first audio packet | %s | %s | %s |\n\n", ms(q(toCaller, .5)), ms(q(toCaller, .9)), ms(toCaller[len(toCaller)-1]))
	return nil
}

// ifaceBytes reads the host's eth0 byte counters (tx, rx).
func ifaceBytes(h *netlab.Host) (tx, rx uint64, err error) {
	read := func(k string) (uint64, error) {
		out, err := h.Run("cat", "/sys/class/net/eth0/statistics/"+k)
		if err != nil {
			return 0, err
		}
		return strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
	}
	if tx, err = read("tx_bytes"); err == nil {
		rx, err = read("rx_bytes")
	}
	return tx, rx, err
}

type usage struct {
	cpu    time.Duration
	tx, rx uint64
}

func measure(ps []*proc, window time.Duration) ([]usage, error) {
	before := make([]usage, len(ps))
	for i, p := range ps {
		c, err := procstat.CPU(p.PID(), false)
		if err != nil {
			return nil, err
		}
		tx, rx, err := ifaceBytes(p.host)
		if err != nil {
			return nil, err
		}
		before[i] = usage{c, tx, rx}
	}
	time.Sleep(window)
	out := make([]usage, len(ps))
	for i, p := range ps {
		c, err := procstat.CPU(p.PID(), false)
		if err != nil {
			return nil, err
		}
		tx, rx, err := ifaceBytes(p.host)
		if err != nil {
			return nil, err
		}
		out[i] = usage{c - before[i].cpu, tx - before[i].tx, rx - before[i].rx}
	}
	return out, nil
}

func pct(d, window time.Duration) string {
	return fmt.Sprintf("%.1f %%", 100*d.Seconds()/window.Seconds())
}

func kbps(b uint64, window time.Duration) string {
	return fmt.Sprintf("%.0f kbit/s", float64(b)*8/window.Seconds()/1000)
}

func cpuOneToOne(a, b *proc, window time.Duration) error {
	idle, err := measure([]*proc{a, b}, window)
	if err != nil {
		return err
	}
	id, err := place(a, []*proc{b})
	if err != nil {
		return err
	}
	if _, err := b.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "call_stats" && e.Str("call") == id }); err != nil {
		return err
	}
	busy, err := measure([]*proc{a, b}, window)
	if err != nil {
		return err
	}
	if err := hangup(a, id, []*proc{b}); err != nil {
		return err
	}
	fmt.Printf("1:1 call, %s window (budget: < 5 %% of one core per call)\n\n", window)
	fmt.Println("| side | CPU idle | CPU in call | added by the call | sent | received |")
	fmt.Println("|---|---|---|---|---|---|")
	for i, p := range []*proc{a, b} {
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", p.name, pct(idle[i].cpu, window), pct(busy[i].cpu, window),
			pct(busy[i].cpu-idle[i].cpu, window), kbps(busy[i].tx, window), kbps(busy[i].rx, window))
	}
	fmt.Println()
	return nil
}

func group(ps []*proc, window time.Duration) error {
	id, err := place(ps[0], ps[1:])
	if err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := p.WaitEvent(15*time.Second, func(e netlab.Event) bool {
			return e.Name() == "call_state" && e.Str("call") == id && e.Str("state") == "active"
		}); err != nil {
			return fmt.Errorf("%s never active: %w", p.name, err)
		}
	}
	mixer := ""
	if calls, err := ps[0].Within(5 * time.Second).Calls(); err == nil && len(calls) == 1 {
		mixer = calls[0].Mixer
	}
	time.Sleep(2 * time.Second) // every leg connected and playing
	use, err := measure(ps, window)
	if err != nil {
		return err
	}
	// In a group call one leaving does not end it for the others: everyone hangs up.
	for _, p := range ps {
		if err := hangup(p, id, nil); err != nil {
			return err
		}
	}
	kind := "full mesh"
	if mixer != "" {
		kind = "mixed by one participant"
	}
	fmt.Printf("%d-party call (%s), %s window; CPU includes each node's idle work\n\n", len(ps), kind, window)
	fmt.Println("| party | role | CPU | sent | received |")
	fmt.Println("|---|---|---|---|---|")
	for i, p := range ps {
		role := "member"
		if p.id == mixer {
			role = "mixer"
		}
		if i == 0 {
			role += ", caller"
		}
		fmt.Printf("| %s | %s | %s | %s | %s |\n", p.name, role, pct(use[i].cpu, window), kbps(use[i].tx, window), kbps(use[i].rx, window))
	}
	fmt.Println()
	return nil
}

func q(d []time.Duration, p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }

func ms(x time.Duration) string { return fmt.Sprintf("%.1f ms", float64(x.Microseconds())/1000) }
