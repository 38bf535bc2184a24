// Command benchrelaylive runs the live relay-choice watch (netlab.RelayWatch) with
// the real binary: six candidate relays shaped from 128 kbit/s to unshaped, production
// intervals, minutes of one voice-relay decision per period. Per run it prints the
// settle times, decisions among the best, switches and flaps per decision-hour; then
// min/median/max over the runs. Needs root (network namespaces).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"
	"time"

	"parley/internal/netlab"
)

func main() {
	bin := flag.String("bin", "", "parley binary (default: build it)")
	runs := flag.Int("runs", 3, "runs, each a fresh lab")
	watch := flag.Duration("watch", 5*time.Minute, "how long each run watches the choice")
	every := flag.Duration("every", 5*time.Second, "decision period (one Relays call)")
	settle := flag.Duration("settle", 3*time.Minute, "bound on the wait for spare figures and a first good choice")
	reshape := flag.Duration("reshape", 0, "when into the watch the chosen relay and the slowest swap shaping (0: never)")
	flag.Parse()
	log.SetFlags(0)
	var settled, inBest, flaps []float64
	fmt.Printf("relay levels %q, best %v, watch %v, one decision per %v\n", netlab.RelayLevels, netlab.BestLevels(netlab.RelayLevels), *watch, *every)
	fmt.Println("run | spare seen s | settled s | decisions | in best % | switches | flaps/h | followed s | chosen | published kbit/s")
	for r := 1; r <= *runs; r++ {
		lab, b, err := netlab.Setup(*bin)
		if err != nil {
			log.Fatal(err)
		}
		*bin = b
		dir, err := os.MkdirTemp("", "benchrelaylive")
		if err != nil {
			lab.Close()
			log.Fatal(err)
		}
		res, err := netlab.RelayWatch{Lab: lab, Bin: b, Dir: dir, Settle: *settle, Watch: *watch, Every: *every, Reshape: *reshape,
			Log: func(f string, a ...any) { log.Printf("run %d: "+f, append([]any{r}, a...)...) }}.Run()
		lab.Close()
		os.RemoveAll(dir)
		if err != nil {
			log.Fatalf("run %d: %v", r, err)
		}
		share := 100 * float64(res.InBest) / float64(res.Decisions)
		fmt.Printf("%d | %.0f | %.0f | %d | %.1f | %d | %.1f | %.0f | %v | %v\n", r, res.SpareSeen.Seconds(), res.Settled.Seconds(),
			res.Decisions, share, res.Switches, res.FlapsPerHour, res.Followed.Seconds(), res.Chosen, res.Published)
		settled, inBest, flaps = append(settled, res.Settled.Seconds()), append(inBest, share), append(flaps, res.FlapsPerHour)
	}
	fmt.Printf("over %d runs (min/median/max): settled %s s, in best %s %%, flaps %s /h\n", *runs, mmm(settled), mmm(inBest), mmm(flaps))
}

func mmm(v []float64) string {
	s := slices.Clone(v)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return strings.Join([]string{fmt.Sprintf("%.1f", s[0]), fmt.Sprintf("%.1f", med), fmt.Sprintf("%.1f", s[len(s)-1])}, "/")
}
