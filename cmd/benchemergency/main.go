// Command benchemergency measures issue 24's emergency figures on one machine,
// with real nodes (the release build) in network namespaces. Needs root.
//
//   - An all-hands alert on a two-segment network of -nodes nodes joined by one
//     relay (as itest/urgent_test.go builds it): the time from the alert
//     command to the alert event at each other node, by the event's own
//     timestamp (every node runs on this machine's clock); p50 and max per run.
//   - The audio gap when a call loses its relay or its mixer to kill -9: a
//     relayed 1:1 call across the two segments (two relays, the used one
//     killed) and a 5-party mixed call (the mixer killed). Each listener
//     records to a WAV; the gap is the longest silence of each speaker's tone
//     that begins around the kill, as itest/failover_test.go judges it
//     (media/signal). Goal < 2 s. A fresh lab each run.
//
// Every run reports the machine's load (1-minute average) at its end: the
// figures are real-time ones and the machine may be shared.
//
//	go run ./cmd/benchemergency -bin bin/parley -runs 3
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
	runs := flag.Int("runs", 3, "runs of each figure")
	nodes := flag.Int("nodes", 20, "nodes in the alert lab (one relay, the rest split over two segments)")
	skip := flag.String("skip", "", "comma-separated parts to leave out: alert, relay, mixer")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "benchemergency: needs root (network namespaces)")
		os.Exit(2)
	}
	if err := run(*bin, *runs, *nodes, strings.Split(*skip, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "benchemergency:", err)
		os.Exit(1)
	}
}

func run(bin string, runs, nodes int, skip []string) error {
	if runs < 1 || nodes < 3 {
		return fmt.Errorf("need -runs ≥ 1 and -nodes ≥ 3")
	}
	lab, bin, err := netlab.Setup(bin)
	if err != nil {
		return err
	}
	defer lab.Close()
	dir, err := os.MkdirTemp("", "benchemergency")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{lab: lab, bin: bin, dir: dir}
	if b.seg1, err = lab.AddSegment("lan"); err != nil {
		return err
	}
	if b.seg2, err = lab.AddSegment("lan2"); err != nil {
		return err
	}
	fmt.Printf("Emergency figures (%s, %d runs each)\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), runs)
	if !slices.Contains(skip, "alert") {
		if err := b.alerts(runs, nodes); err != nil {
			return fmt.Errorf("alert: %w", err)
		}
	}
	if !slices.Contains(skip, "relay") {
		var rs []gapRun
		for i := range runs {
			r, err := b.relayKilled(i + 1)
			if err != nil {
				return fmt.Errorf("relay run %d: %w", i+1, err)
			}
			rs = append(rs, r)
		}
		printGaps("Relayed 1:1 call, the relay killed (kill -9)", rs)
	}
	if !slices.Contains(skip, "mixer") {
		var rs []gapRun
		for i := range runs {
			r, err := b.mixerKilled(i + 1)
			if err != nil {
				return fmt.Errorf("mixer run %d: %w", i+1, err)
			}
			rs = append(rs, r)
		}
		printGaps("5-party mixed call, the mixer killed (kill -9)", rs)
	}
	return nil
}

// bench is the lab every part starts its nodes in.
type bench struct {
	lab        *netlab.Lab
	bin        string
	dir        string
	seg1, seg2 *netlab.Segment
}

// node is one started parley.
type node struct {
	*netlab.Proc
	name, id string
}

// start starts a node named name on the segments given and waits for it.
func (b *bench) start(name string, segs []*netlab.Segment, extra ...string) (*node, error) {
	h, err := b.lab.AddHost(name, segs...)
	if err != nil {
		return nil, err
	}
	args := append([]string{"--headless", "--data", filepath.Join(b.dir, name), "--name", name,
		"--log-level", "warn", "--web", "off"}, extra...)
	p, err := h.Start(b.bin, args...)
	if err != nil {
		return nil, err
	}
	ready, err := p.WaitEvent(60*time.Second, func(e netlab.Event) bool { return e.Name() == "ready" })
	if err != nil {
		p.Kill()
		return nil, fmt.Errorf("%s not ready: %w", name, err)
	}
	return &node{Proc: p, name: name, id: ready.Str("id")}, nil
}

// stopAll quits the nodes still running at once (each recording ends with
// every tone in it) and waits; one that does not quit in 10 s is killed.
func stopAll(nodes []*node) {
	var wg sync.WaitGroup
	for _, n := range nodes {
		if n != nil && !n.Exited() {
			wg.Go(func() {
				if n.Quit(10*time.Second) != nil {
					n.Kill()
				}
			})
		}
	}
	wg.Wait()
}

// waitPeerUp waits until n saw every one of others come up.
func (n *node) waitPeerUp(d time.Duration, others ...*node) error {
	for _, o := range others {
		if o == n {
			continue
		}
		if _, err := n.WaitEventAny(d, func(e netlab.Event) bool { return e.Name() == "peer_up" && e.PeerID() == o.id }); err != nil {
			return fmt.Errorf("%s never saw %s: %w", n.name, o.name, err)
		}
	}
	return nil
}

func until(d time.Duration, cond func() bool) error {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return nil
		}
	}
	return fmt.Errorf("timed out")
}

// load is the machine's 1-minute load average, as /proc/loadavg says.
func load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// spread is min / median / max of d.
func spread(d []time.Duration) string {
	s := slices.Clone(d)
	slices.Sort(s)
	return fmt.Sprintf("%.0f / %.0f / %.0f ms", ms(s[0]), ms(s[len(s)/2]), ms(s[len(s)-1]))
}
