// Command benchchat measures chat latency on real network hosts: a 1-hop path (two
// hosts on one bridge) and a 2-hop path (two segments joined by one dual-homed
// host that relays). Each message is timed from the moment the sender's command is
// written to the moment the receiver reports it, both read off this machine's clock,
// so the figures include the JSON skins and both sides' durable commits. The
// difference between the paths is what one relay hop adds. Needs root.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"parley/internal/netlab"
	"parley/node"
)

func main() {
	bin := flag.String("bin", "", "parley binary (default: build it)")
	count := flag.Int("n", 300, "messages per path")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "benchchat: needs root (network namespaces)")
		os.Exit(2)
	}
	if err := run(*bin, *count); err != nil {
		fmt.Fprintln(os.Stderr, "benchchat:", err)
		os.Exit(1)
	}
}

type proc struct {
	*netlab.Proc
	id string
}

func run(bin string, count int) error {
	lab, bin, err := netlab.Setup(bin)
	if err != nil {
		return err
	}
	defer lab.Close()
	seg1, err := lab.AddSegment("lan1")
	if err != nil {
		return err
	}
	seg2, err := lab.AddSegment("lan2")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "benchchat")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	start := func(name string, segs ...*netlab.Segment) (*proc, error) {
		h, err := lab.AddHost(name, segs...)
		if err != nil {
			return nil, err
		}
		p, err := h.Start(bin, "--headless", "--data", filepath.Join(dir, name), "--name", name, "--log-level", "warn")
		if err != nil {
			return nil, err
		}
		ready, err := p.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "ready" })
		if err != nil {
			return nil, err
		}
		return &proc{Proc: p, id: ready.Str("id")}, nil
	}
	a, err := start("a", seg1)
	if err != nil {
		return err
	}
	d, err := start("d", seg1)
	if err != nil {
		return err
	}
	if _, err := start("b", seg1, seg2); err != nil {
		return err
	}
	c, err := start("c", seg2)
	if err != nil {
		return err
	}
	for _, peer := range []*proc{d, c} {
		if _, err := a.WaitEventAny(20*time.Second, func(e netlab.Event) bool {
			up, ok := netlab.As[node.PeerUp](e)
			return ok && up.Peer.ID == peer.id
		}); err != nil {
			return fmt.Errorf("a never saw %s: %w", peer.id, err)
		}
	}
	fmt.Printf("Chat latency, %d messages per path, sent one at a time (%s)\n\n", count, time.Now().Format("2006-01-02"))
	fmt.Println("| path | n | p50 | p90 | p99 | max |")
	fmt.Println("|---|---|---|---|---|---|")
	one, err := measure(a, d, count)
	if err != nil {
		return err
	}
	two, err := measure(a, c, count)
	if err != nil {
		return err
	}
	row("1 hop (same segment): command → receiver's event", one)
	row("2 hops (relayed, sealed): command → receiver's event", two)
	fmt.Printf("\nAdded by one relay hop: p50 %s, p99 %s\n", ms(q(two, 0.5)-q(one, 0.5)), ms(q(two, 0.99)-q(one, 0.99)))
	return linkRTT(a, d)
}

// linkRTT prints the overlay's own per-hop figure: the ping round trip of the TLS
// link (1 ping a second while the benchmark ran), halved for one way.
func linkRTT(a, d *proc) error {
	links, err := a.Within(5 * time.Second).Links()
	if err != nil {
		return err
	}
	for _, l := range links {
		if l.Peer != d.id {
			continue
		}
		us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
		fmt.Printf("Link ping over TLS (a↔d, %v samples): smoothed RTT %s, min RTT %s, so one hop one way ≈ %s\n",
			l.Quality.Samples, ms(us(l.Quality.SRTTus)), ms(us(l.Quality.MinRTTus)), ms(us(l.Quality.SRTTus)/2))
	}
	return nil
}

func measure(from, to *proc, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := 0; i < n; i++ {
		text := fmt.Sprintf("latency probe %d", i)
		t0 := time.Now()
		if _, err := from.Send(to.id, text); err != nil {
			return nil, err
		}
		e, err := to.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "message" && e.Str("text") == text })
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		at, _ := time.Parse(time.RFC3339Nano, e.Str("time"))
		out = append(out, at.Sub(t0))
	}
	slices.Sort(out)
	return out, nil
}

func q(d []time.Duration, p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }

func ms(x time.Duration) string { return fmt.Sprintf("%.2f ms", float64(x.Microseconds())/1000) }

func row(name string, d []time.Duration) {
	fmt.Printf("| %s | %d | %s | %s | %s | %s |\n", name, len(d), ms(q(d, 0.5)), ms(q(d, 0.9)), ms(q(d, 0.99)), ms(d[len(d)-1]))
}
