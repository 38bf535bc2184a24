// Command benchrelay runs the relay-selection simulator (internal/relaysim) on every
// synthetic topology at 50 and 200 peers and prints the markdown tables that
// docs/relay-selection.md carries. By default it runs the held-out seeds 11–20
// (relaysim.HeldOutSeeds: never used for tuning) and pools their relay sessions,
// with 95 % intervals from a bootstrap over seeds; -seed N runs one seed. Its last
// line is the summary: "summary: median X/N p95 Y/N random Z/M captured P%".
// Runs are independent and deterministic for a seed, so they run in parallel and
// print in a fixed order.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"parley/internal/relaysim"
	"parley/selection"
)

func main() {
	seed := flag.Uint64("seed", 0, "run this one seed only (0: the -seeds list)")
	seedList := flag.String("seeds", "", "seeds to pool, e.g. 1-10 or 11,12 (default: the held-out seeds 11-20)")
	ticks := flag.Bool("ticks", false, "also print the per-run, per-tick tables of each seed")
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
	worldFlag := flag.String("world", "", "worlds where the model is wrong: pairs,bursty,contention,load or all (default: the base world)")
	modelFlag := flag.String("model", "full", "estimation model: full, no-floor, no-shares or no-cells")
	sizes := flag.String("peers", "50,200", "network sizes, comma-separated")
	knows := flag.String("knows", "", "diagnostic: give the peers true loss, delay, peers (self state) or pairs (every pair measured), comma-separated")
	flag.Parse()
	k, ok := relaysim.ParseKnowledge(*knows)
	if !ok {
		fmt.Fprintf(os.Stderr, "benchrelay: -knows %q: want a comma-separated list of loss, delay, peers, pairs\n", *knows)
		os.Exit(2)
	}
	world, ok := relaysim.ParseWorld(*worldFlag)
	model, ok2 := relaysim.ParseModel(*modelFlag)
	peers, err := parseSeeds(*sizes)
	if !ok || !ok2 || err != nil {
		fmt.Fprintf(os.Stderr, "benchrelay: bad -world %q, -model %q or -peers %q\n", *worldFlag, *modelFlag, *sizes)
		os.Exit(2)
	}
	seeds := relaysim.HeldOutSeeds()
	switch {
	case *seed != 0:
		seeds = []uint64{*seed}
	case *seedList != "":
		var err error
		if seeds, err = parseSeeds(*seedList); err != nil {
			fmt.Fprintln(os.Stderr, "benchrelay: -seeds:", err)
			os.Exit(2)
		}
	}
	if err := run(seeds, peers, *duration, *decisions, *degree, h, k, world, model, *ticks); err != nil {
		fmt.Fprintln(os.Stderr, "benchrelay:", err)
		os.Exit(1)
	}
}

func run(seeds, peers []uint64, duration time.Duration, decisions, degree int, h selection.Hysteresis,
	k relaysim.Knowledge, world relaysim.World, model relaysim.Model, ticks bool) error {
	var cfgs []relaysim.Config
	for _, seed := range seeds {
		for _, t := range relaysim.Topologies() {
			for _, n := range peers {
				c := relaysim.DefaultConfig(t, int(n), seed)
				c.Duration, c.Decisions, c.Degree, c.Hysteresis, c.Knows = duration, decisions, degree, h, k
				c.World, c.Model = world, model
				cfgs = append(cfgs, c)
			}
		}
	}
	start := time.Now()
	results := make([]relaysim.Result, len(cfgs))
	errs := make([]error, len(cfgs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	// Largest first, so the longest runs do not start last.
	order := make([]int, len(cfgs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return cfgs[order[a]].Peers > cfgs[order[b]].Peers })
	for _, i := range order {
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
	held := "held out: never used for tuning"
	for _, s := range seeds {
		if !relaysim.HeldOut(s) {
			held = "includes tuning seeds (1–10)"
		}
	}
	fmt.Printf("Relay selection, seeds %s (%s), %v evaluated after %v warm-up, %d decisions per purpose, re-ranked every %v.\n",
		relaysim.SeedList(seeds), held, duration, cfgs[0].Warmup, decisions, cfgs[0].Tick)
	fmt.Printf("Hysteresis: switch at once if > %g ms and < %.3g × current; after %v if > %g ms and < %.3g × current, and %v after the last switch.\n\n",
		h.MinGain, h.Ratio, h.Hold, h.SlowMinGain, h.SlowRatio, h.Dwell)
	if world != 0 || model != relaysim.ModelFull {
		fmt.Printf("World: %v; estimation model: %v.\n\n", world, model)
	}
	if k != 0 {
		fmt.Printf("Diagnostic, not the protocol: the peers know the true %v.\n\n", k)
	}
	rows := relaysim.Aggregate(results, cfgs[0].Tick)
	fmt.Print(relaysim.RowsTable(rows))
	fmt.Println()
	fmt.Print(relaysim.BaselinesTable(rows))
	fmt.Println()
	fmt.Print(relaysim.MeasurementTable(results))
	if ticks {
		fmt.Println()
		fmt.Print(relaysim.Table(results))
		fmt.Println()
		fmt.Print(relaysim.DiagnosticsTable(results))
		fmt.Println()
		fmt.Print(relaysim.Goals(results))
	}
	fmt.Println()
	fmt.Println(relaysim.Summary(rows))
	fmt.Fprintf(os.Stderr, "benchrelay: %d runs in %v\n", len(cfgs), time.Since(start).Round(time.Millisecond))
	return nil
}

// parseSeeds reads "1-10", "11,12,15" or a mix.
func parseSeeds(s string) ([]uint64, error) {
	var out []uint64
	for _, f := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(f, "-")
		a, err := strconv.ParseUint(lo, 10, 64)
		if err != nil || a == 0 {
			return nil, fmt.Errorf("bad seed %q", f)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 64); err != nil || b < a || b-a > 1000 {
				return nil, fmt.Errorf("bad range %q", f)
			}
		}
		for x := a; x <= b; x++ {
			out = append(out, x)
		}
	}
	return out, nil
}
