// Command soak runs Parley for a bounded time on real network hosts and reports
// whether anything was lost, duplicated or leaked: 8 namespaces on one bridge, chat
// in a room and 1:1 between random pairs, one voice call held for the whole run,
// and churn (one node restarted, alternately killed with SIGKILL and quit cleanly)
// every 30 s. At the end every node's history is read back through the headless
// protocol and compared with what the senders were told was sent. Needs root.
//
//	go run ./cmd/soak -bin bin/parley -duration 10m
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"parley/internal/chatload"
	"parley/internal/netlab"
	"parley/internal/procstat"
)

func main() {
	bin := flag.String("bin", "", "parley binary (default: build it)")
	duration := flag.Duration("duration", 10*time.Minute, "how long traffic runs")
	nodes := flag.Int("nodes", 8, "hosts (namespaces), each running one node")
	churn := flag.Duration("churn", 30*time.Second, "a node is restarted this often (0: never)")
	rate := flag.Float64("rate", 4, "chat messages per second, over all nodes")
	drain := flag.Duration("drain", 90*time.Second, "longest wait for the last messages after traffic stops")
	logLevel := flag.String("log-level", "warn", "the nodes' --log-level")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "soak: needs root (network namespaces)")
		os.Exit(2)
	}
	if *nodes < 4 {
		fmt.Fprintln(os.Stderr, "soak: at least 4 nodes (two in the call, one stable, one churned)")
		os.Exit(2)
	}
	s := &soak{nodes: *nodes, duration: *duration, churnEvery: *churn, rate: *rate, drain: *drain, logLevel: *logLevel}
	if err := s.run(*bin); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if s.failed {
		os.Exit(1)
	}
}

type soak struct {
	nodes      int
	duration   time.Duration
	churnEvery time.Duration
	rate       float64
	drain      time.Duration
	logLevel   string

	lab     *netlab.Lab
	bin     string
	members []*chatload.Member
	load    *chatload.Load
	failed  bool
}

func (s *soak) run(bin string) error {
	lab, bin, err := netlab.Setup(bin)
	if err != nil {
		return err
	}
	defer lab.Close()
	s.lab, s.bin = lab, bin
	seg, err := lab.AddSegment("lan")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "soak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for i := 0; i < s.nodes; i++ {
		name := fmt.Sprintf("n%d", i+1)
		h, err := lab.AddHost(name, seg)
		if err != nil {
			return err
		}
		args := []string{"--headless", "--data", filepath.Join(dir, name), "--name", name, "--log-level", s.logLevel,
			"--audio-in", "null", "--audio-out", "null"}
		if i == 0 {
			// The caller plays a tone, so the callee's playout counts real frames.
			args = []string{"--headless", "--data", filepath.Join(dir, name), "--name", name, "--log-level", s.logLevel,
				"--audio-in", "tone:440", "--audio-out", "null"}
		}
		m := chatload.NewMember(name, h, args)
		s.members = append(s.members, m)
		if _, err := m.Start(s.bin, 20*time.Second); err != nil {
			return err
		}
	}
	if err := s.waitMesh(60 * time.Second); err != nil {
		return err
	}
	all := make([]int, s.nodes)
	for i := range all {
		all[i] = i
	}
	// n1 and n2 hold the call and n3 is a stable bystander whose memory and
	// goroutines are tracked start to end: the rest are churned.
	s.load = &chatload.Load{Bin: s.bin, Members: s.members, RoomMembers: all, Rate: s.rate,
		ChurnEvery: s.churnEvery, Churnable: s.members[3:], ReadyTimeout: 20 * time.Second, Drain: s.drain, Seed: 1, Log: "soak"}
	if err := s.load.SetupRoom("soak", 30*time.Second); err != nil {
		return err
	}
	callID, err := s.startCall()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "soak: %d nodes up, room %s, call %s; running %v\n", s.nodes, s.load.Room, callID, s.duration)

	time.Sleep(5 * time.Second) // let the call and the room settle before the first sample
	start := s.sample()
	begin := time.Now()
	var samples []sample
	samples = append(samples, start)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { s.load.Run(stop) })
	minute := time.NewTicker(time.Minute)
	deadline := time.After(s.duration)
loop:
	for {
		select {
		case <-minute.C:
			samples = append(samples, s.sample())
		case <-deadline:
			break loop
		}
	}
	minute.Stop()
	close(stop)
	wg.Wait()
	elapsed := time.Since(begin)
	// Every node must be up for the final count (churn may have left one down).
	if err := s.load.RestartDown(); err != nil {
		return err
	}
	end := s.sample()
	callOK := s.callState(callID)
	res := s.load.Settle()
	s.failed = res.Failed
	s.report(elapsed, start, end, samples, res, callOK)
	return nil
}

// waitMesh waits until every node sees every other one online.
func (s *soak) waitMesh(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, m := range s.members {
		for {
			p, _, _ := m.Current()
			list, err := p.Roster()
			if err != nil {
				return err
			}
			online := 0
			for _, pv := range list {
				if pv.Online {
					online++
				}
			}
			if online >= s.nodes-1 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s sees %d of %d peers online after %v", m.Name, online, s.nodes-1, timeout)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	return nil
}

// startCall has n1 call n2 and waits until both are active. n1 and n2 are never
// churned: the call is the run's long-lived media session.
func (s *soak) startCall() (string, error) {
	a, _, _ := s.members[0].Current()
	b, _, _ := s.members[1].Current()
	id, err := a.Call(s.members[1].ID())
	if err != nil {
		return "", err
	}
	if _, err := b.WaitEventAny(15*time.Second, func(e netlab.Event) bool { return e.Name() == "call_incoming" && e.Str("call") == id }); err != nil {
		return "", err
	}
	if err := b.Answer(id); err != nil {
		return "", err
	}
	for _, p := range []*netlab.Proc{a, b} {
		if _, err := p.WaitEventAny(20*time.Second, func(e netlab.Event) bool {
			return e.Name() == "call_state" && e.Str("call") == id && e.Str("state") == "active"
		}); err != nil {
			return "", err
		}
	}
	return id, nil
}

// sample is one reading of memory and goroutines of the members never churned.
type sample struct {
	at         time.Time
	rss        []int // KiB, by member index (0 when down)
	goroutines []int
	threads    []int
}

func (s *soak) sample() sample {
	sm := sample{at: time.Now()}
	for _, m := range s.members {
		p, _, up := m.Current()
		rss, thr, gor := 0, 0, 0
		if up {
			st, _ := procstat.ReadStatus(p.PID())
			rss, thr = st.RSSKiB, st.Threads
			if c, err := p.Stats(); err == nil {
				gor = int(c["go_goroutines"])
			}
		}
		sm.rss = append(sm.rss, rss)
		sm.threads = append(sm.threads, thr)
		sm.goroutines = append(sm.goroutines, gor)
	}
	return sm
}

// callState reports whether the long call is still active on both ends.
func (s *soak) callState(id string) string {
	var states []string
	for _, m := range s.members[:2] {
		p, _, _ := m.Current()
		list, err := p.Calls()
		if err != nil {
			states = append(states, m.Name+": "+err.Error())
			continue
		}
		st := "none"
		for _, c := range list {
			if c.Call == id {
				st = c.State
			}
		}
		ended := 0
		for _, ev := range p.Events() {
			if ev.Name() == "call_state" && ev.Str("call") == id && ev.Str("state") == "ended" {
				ended++
			}
		}
		states = append(states, fmt.Sprintf("%s %s (ended events: %d)", m.Name, st, ended))
	}
	return strings.Join(states, ", ")
}

func (s *soak) report(elapsed time.Duration, start, end sample, samples []sample, res chatload.Result, call string) {
	fmt.Printf("Soak: %d nodes on one bridge, %v of traffic (%s), %.1f msg/s, churn every %v\n\n",
		s.nodes, elapsed.Round(time.Second), time.Now().UTC().Format("2006-01-02"), s.rate, s.churnEvery)
	fmt.Println("| figure | value |")
	fmt.Println("|---|---|")
	res.Table(os.Stdout, s.nodes)
	fmt.Printf("| call n1↔n2 at the end | %s |\n", call)
	fmt.Println()
	fmt.Println("Memory and goroutines of the nodes never restarted (n1, n2 in the call; n3 bystander):")
	fmt.Println()
	fmt.Println("| node | RSS start | RSS end | goroutines start | goroutines end | threads start | threads end |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for i := 0; i < 3; i++ {
		fmt.Printf("| %s | %.1f MiB | %.1f MiB | %d | %d | %d | %d |\n", s.members[i].Name,
			float64(start.rss[i])/1024, float64(end.rss[i])/1024, start.goroutines[i], end.goroutines[i], start.threads[i], end.threads[i])
	}
	fmt.Println()
	fmt.Println("Per-minute samples (RSS MiB / goroutines) of n1, n2, n3:")
	fmt.Println()
	fmt.Println("| minute | n1 | n2 | n3 |")
	fmt.Println("|---|---|---|---|")
	for k, sm := range samples {
		var cells []string
		for i := 0; i < 3; i++ {
			cells = append(cells, fmt.Sprintf("%.1f / %d", float64(sm.rss[i])/1024, sm.goroutines[i]))
		}
		fmt.Printf("| %d | %s |\n", k, strings.Join(cells, " | "))
	}
	res.WriteNotes(os.Stdout)
	if res.Lost > 0 || res.Dups > 0 {
		fmt.Println("\nFAIL: messages lost or duplicated")
	}
}
