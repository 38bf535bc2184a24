// Command benchptt measures a push-to-talk talkgroup on one machine (issue 24):
// a speaker and -listeners real nodes (the release build) in network
// namespaces on one bridge, all in one room marked as a talkgroup. For each of
// -presses presses it reports the time from the ptt command to the ptt_state
// event at each listener (the first frame received: the speaker's first 20 ms
// frame captured, encoded, signed and passed down the tree), the farthest
// listener's figure, and the CPU each node spent while the speaker talked:
// the speaker, the busiest forwarder, the median listener. Needs root.
//
//	go run ./cmd/benchptt -bin bin/parley -listeners 50
//
// Mouth-to-ear adds the listener's jitter buffer (20 ms target at first on a
// LAN) and the devices' buffers to the press → first-frame figure.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"parley/headless/client"
	"parley/internal/netlab"
	"parley/internal/procstat"
)

func main() {
	bin := flag.String("bin", "", "parley binary (default: build it)")
	listeners := flag.Int("listeners", 50, "talkgroup members besides the speaker")
	presses := flag.Int("presses", 5, "presses measured")
	talk := flag.Duration("talk", 5*time.Second, "each press lasts this long (CPU is measured over it)")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "benchptt: needs root (network namespaces)")
		os.Exit(2)
	}
	if err := run(*bin, *listeners, *presses, *talk); err != nil {
		fmt.Fprintln(os.Stderr, "benchptt:", err)
		os.Exit(1)
	}
}

func run(bin string, listeners, presses int, talk time.Duration) error {
	lab, bin, err := netlab.Setup(bin)
	if err != nil {
		return err
	}
	defer lab.Close()
	restore, err := netlab.RoomForNeighbours(listeners + 1)
	if err != nil {
		return err
	}
	defer restore()
	seg, err := lab.AddSegment("ptt")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "benchptt")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	n := listeners + 1
	procs := make([]*netlab.Proc, n)
	ids := make([]string, n)
	defer func() {
		var wg sync.WaitGroup
		for _, p := range procs {
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
	for i := range n {
		name := fmt.Sprintf("n%d", i)
		host, err := lab.AddHost(name, seg)
		if err != nil {
			return err
		}
		in := "null"
		if i == 0 {
			in = "tone:440"
		}
		if procs[i], err = host.Start(bin, "--headless", "--data", filepath.Join(dir, name), "--name", name,
			"--log-level", "warn", "--web", "off", "--audio-in", in, "--audio-out", "null"); err != nil {
			return err
		}
	}
	for i, p := range procs {
		ready, err := p.WaitEvent(60*time.Second, func(e netlab.Event) bool { return e.Name() == "ready" })
		if err != nil {
			return fmt.Errorf("n%d not ready: %w", i, err)
		}
		ids[i] = ready.Str("id")
	}
	s := procs[0]
	fmt.Printf("A talkgroup of 1 speaker and %d listeners, one bridge (%s)\n\n", listeners, time.Now().Format("2006-01-02 15:04"))
	for i := 1; i < n; i++ {
		if _, err := s.WaitEventAny(3*time.Minute, func(e netlab.Event) bool { return e.Name() == "peer_up" && e.PeerID() == ids[i] }); err != nil {
			return fmt.Errorf("the speaker never saw n%d: %w", i, err)
		}
	}
	r, err := s.Join("net")
	if err != nil {
		return err
	}
	room := r.ID
	if _, err := s.SetTalkgroup(room, true); err != nil {
		return err
	}
	for i, p := range procs[1:] {
		if err := until(time.Minute, func() bool {
			rs, err := p.Rooms()
			return err == nil && slices.ContainsFunc(rs, func(x client.Room) bool { return x.ID == room })
		}); err != nil {
			return fmt.Errorf("n%d never learned the room", i+1)
		}
		if _, err := p.Join(room); err != nil {
			return err
		}
		if _, err := p.SetTalkgroup(room, true); err != nil {
			return err
		}
	}
	if err := until(2*time.Minute, func() bool {
		rs, err := s.Rooms()
		if err != nil {
			return false
		}
		i := slices.IndexFunc(rs, func(x client.Room) bool { return x.ID == room })
		return i >= 0 && len(rs[i].Members) == n
	}); err != nil {
		return fmt.Errorf("the speaker never listed every member")
	}
	time.Sleep(5 * time.Second) // link quality measured and published for the ranking

	var farthest, every []time.Duration
	var spk, busiest, median []float64
	var busiestFwd uint64
	for range presses {
		before := cpus(procs)
		fwdBefore := forwarded(procs)
		t0 := time.Now()
		if err := s.PTT(room, true); err != nil {
			return err
		}
		var far time.Duration
		for i, p := range procs[1:] {
			e, err := p.WaitEvent(15*time.Second, stateOf(room, ids[0], true))
			if err != nil {
				return fmt.Errorf("n%d did not hear the press: %w", i+1, err)
			}
			d := e.Time().Sub(t0)
			every = append(every, d)
			far = max(far, d)
		}
		farthest = append(farthest, far)
		time.Sleep(talk - time.Since(t0))
		after := cpus(procs)
		el := time.Since(t0)
		if err := s.PTT(room, false); err != nil {
			return err
		}
		pct := make([]float64, n)
		for i := range procs {
			pct[i] = 100 * float64(after[i]-before[i]) / float64(el)
		}
		spk = append(spk, pct[0])
		fwd := forwarded(procs)
		top := 1
		for i := 1; i < n; i++ {
			if fwd[i]-fwdBefore[i] > fwd[top]-fwdBefore[top] {
				top = i
			}
		}
		busiest = append(busiest, slices.Max(pct[1:]))
		busiestFwd = max(busiestFwd, fwd[top]-fwdBefore[top])
		ls := slices.Clone(pct[1:])
		slices.Sort(ls)
		median = append(median, ls[len(ls)/2])
		for i, p := range procs[1:] {
			if _, err := p.WaitEvent(15*time.Second, stateOf(room, ids[0], false)); err != nil {
				return fmt.Errorf("n%d did not hear the release: %w", i+1, err)
			}
		}
		time.Sleep(time.Second)
	}
	fmt.Println("| figure | n | p50 | max |")
	fmt.Println("|---|---|---|---|")
	durRow("press → first frame, farthest listener", farthest)
	durRow("press → first frame, every listener", every)
	pctRow("speaker CPU while talking (% of one core)", spk)
	pctRow("busiest listener/forwarder CPU (%)", busiest)
	pctRow("median listener CPU (%)", median)
	fmt.Printf("\nMost frames one member forwarded in one press: %d (the speaker sends 8 copies of each frame)\n", busiestFwd)
	return nil
}

func stateOf(room, speaker string, on bool) func(netlab.Event) bool {
	return func(e netlab.Event) bool {
		isOn, _ := e["on"].(bool)
		return e.Name() == "ptt_state" && e.Str("room") == room && e.Str("speaker") == speaker && isOn == on
	}
}

func cpus(procs []*netlab.Proc) []time.Duration {
	out := make([]time.Duration, len(procs))
	for i, p := range procs {
		out[i], _ = procstat.CPU(p.PID(), false)
	}
	return out
}

func forwarded(procs []*netlab.Proc) []uint64 {
	out := make([]uint64, len(procs))
	for i, p := range procs {
		if st, err := p.Stats(); err == nil {
			out[i] = st["ptt_forwarded"]
		}
	}
	return out
}

func until(d time.Duration, cond func() bool) error {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return nil
		}
	}
	return fmt.Errorf("timed out")
}

func durRow(name string, d []time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	fmt.Printf("| %s | %d | %.0f ms | %.0f ms |\n", name, len(s), ms(s[len(s)/2]), ms(s[len(s)-1]))
}

func pctRow(name string, v []float64) {
	s := slices.Clone(v)
	slices.Sort(s)
	fmt.Printf("| %s | %d | %.1f | %.1f |\n", name, len(s), s[len(s)/2], s[len(s)-1])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
