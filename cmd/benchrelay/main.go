// Command benchrelay runs the relay-selection simulator (internal/relaysim) on every
// synthetic topology at 50 and 200 peers and prints the markdown tables that
// docs/relay-selection.md carries. Runs are independent and deterministic for a
// seed, so they run in parallel and print in a fixed order.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"parley/internal/relaysim"
	"parley/selection"
)

func main() {
	seed := flag.Uint64("seed", 1, "simulation seed")
	duration := flag.Duration("duration", time.Hour, "evaluated virtual time per run")
	decisions := flag.Int("decisions", 30, "decisions per purpose per run")
	degree := flag.Int("degree", relaysim.DefaultConfig(0, 50, 1).Degree, "overlay links each peer opens (it also accepts others')")
	// The hysteresis rule, so that variants can be compared without editing code.
	h := selection.DefaultHysteresis()
	flag.Float64Var(&h.MinGain, "min-gain", h.MinGain, "clear gain: ms-equivalent a switch must save at once")
	flag.Float64Var(&h.Ratio, "ratio", h.Ratio, "clear gain: the new cost must be below this fraction of the current")
	flag.Float64Var(&h.SlowMinGain, "slow-min-gain", h.SlowMinGain, "persistent gain: ms-equivalent")
	flag.Float64Var(&h.SlowRatio, "slow-ratio", h.SlowRatio, "persistent gain: fraction of the current cost (≥ 1 disables)")
	flag.DurationVar(&h.Hold, "hold", h.Hold, "persistent gain: how long it must last")
	flag.DurationVar(&h.Dwell, "dwell", h.Dwell, "minimum time between voluntary switches")
	knows := flag.String("knows", "", "diagnostic: give the peers true loss, delay, peers (self state) or pairs (every pair measured), comma-separated")
	flag.Parse()
	k, ok := relaysim.ParseKnowledge(*knows)
	if !ok {
		fmt.Fprintf(os.Stderr, "benchrelay: -knows %q: want a comma-separated list of loss, delay, peers, pairs\n", *knows)
		os.Exit(2)
	}
	if err := run(*seed, *duration, *decisions, *degree, h, k); err != nil {
		fmt.Fprintln(os.Stderr, "benchrelay:", err)
		os.Exit(1)
	}
}

func run(seed uint64, duration time.Duration, decisions, degree int, h selection.Hysteresis, k relaysim.Knowledge) error {
	var cfgs []relaysim.Config
	for _, t := range relaysim.Topologies() {
		for _, n := range []int{50, 200} {
			c := relaysim.DefaultConfig(t, n, seed)
			c.Duration, c.Decisions, c.Degree, c.Hysteresis, c.Knows = duration, decisions, degree, h, k
			cfgs = append(cfgs, c)
		}
	}
	start := time.Now()
	results := make([]relaysim.Result, len(cfgs))
	errs := make([]error, len(cfgs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	// Largest first, so the longest runs do not start last.
	for i := len(cfgs) - 1; i >= 0; i-- {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i], errs[i] = relaysim.Run(cfgs[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	fmt.Printf("Relay selection, seed %d, %v evaluated after %v warm-up, %d decisions per purpose, re-ranked every %v.\n",
		seed, duration, cfgs[0].Warmup, decisions, cfgs[0].Tick)
	fmt.Printf("Hysteresis: switch at once if > %g ms and < %.3g × current; after %v if > %g ms and < %.3g × current, and %v after the last switch.\n\n",
		h.MinGain, h.Ratio, h.Hold, h.SlowMinGain, h.SlowRatio, h.Dwell)
	if k != 0 {
		fmt.Printf("Diagnostic, not the protocol: the peers know the true %v.\n\n", k)
	}
	fmt.Print(relaysim.Table(results))
	fmt.Println()
	fmt.Print(relaysim.MeasurementTable(results))
	fmt.Println()
	fmt.Print(relaysim.DiagnosticsTable(results))
	fmt.Println()
	fmt.Print(relaysim.Goals(results))
	fmt.Fprintf(os.Stderr, "benchrelay: %d runs in %v\n", len(cfgs), time.Since(start).Round(time.Millisecond))
	return nil
}
