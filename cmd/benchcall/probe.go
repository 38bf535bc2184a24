package main

import (
	"fmt"
	"time"
)

// probe measures Parley's side of the baresip comparison alone: rounds 1:1
// calls between two nodes, each round's CPU and context switches added by the
// call (idle subtracted, the method of parleyCall), printed per round. It is
// the quick loop for work on a call's cost (~25 s a round against ~70 s for a
// round with baresip); the ratio to baresip is only ever taken from
// compareBaresip, in one run. Environment variables reach the nodes, so
// GOMAXPROCS or PARLEY_CPUPROFILE can be tried without a rebuild.
func probe(bin string, rounds int, window time.Duration) error {
	l, err := newLab(bin, "benchcall")
	if err != nil {
		return err
	}
	defer l.close()
	var ps []*proc
	for i, name := range []string{"a", "b"} {
		p, err := l.start(name, 440+110*i)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	defer func() {
		for _, p := range ps {
			_ = p.Quit(5 * time.Second)
		}
	}()
	if err := waitUp(ps[0], ps[1]); err != nil {
		return err
	}
	if err := waitUp(ps[1], ps[0]); err != nil {
		return err
	}
	// Let start-up work (first record pushes, discovery bursts) settle so the
	// idle window is idle.
	time.Sleep(3 * time.Second)
	fmt.Printf("| round | load | CPU a | CPU b | switches/s a | b | threads a / b |\n|---|---|---|---|---|---|---|\n")
	for i := 0; i < rounds; i++ {
		r, err := parleyCall(ps[0], ps[1], window)
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %s | %.2f %% | %.2f %% | %.0f | %.0f | %d / %d |\n", i+1, loadavg(),
			100*r.added[0].Seconds()/window.Seconds(), 100*r.added[1].Seconds()/window.Seconds(),
			r.switches[0], r.switches[1], r.threads[0], r.threads[1])
	}
	return nil
}
