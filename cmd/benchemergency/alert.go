package main

import (
	"fmt"
	"slices"
	"time"

	"parley/internal/netlab"
)

// alerts starts the alert lab — r on both segments, half the rest on each —
// raises runs alerts from a0 (first segment), and prints when each other node
// got each.
func (b *bench) alerts(runs, n int) error {
	type spec struct {
		name string
		segs []*netlab.Segment
	}
	specs := []spec{{"r", []*netlab.Segment{b.seg1, b.seg2}}}
	half := n / 2 // 20 nodes: r, a0..a9, b0..b8 as in itest TestUrgent
	for i := range half {
		specs = append(specs, spec{fmt.Sprintf("a%d", i), []*netlab.Segment{b.seg1}})
	}
	for i := range n - 1 - half {
		specs = append(specs, spec{fmt.Sprintf("b%d", i), []*netlab.Segment{b.seg2}})
	}
	nodes := make([]*node, len(specs))
	defer stopAll(nodes)
	for i, s := range specs {
		var err error
		if nodes[i], err = b.start(s.name, s.segs, "--audio-in", "null", "--audio-out", "null"); err != nil {
			return err
		}
	}
	origin := nodes[1] // a0
	if err := origin.waitPeerUp(2*time.Minute, nodes...); err != nil {
		return err
	}
	// Wait until every node is linked to someone: a node not yet in the
	// overlay would measure the start-up, not the alert.
	for _, o := range nodes {
		if err := until(time.Minute, func() bool { l, err := o.Links(); return err == nil && len(l) > 0 }); err != nil {
			return fmt.Errorf("%s has no link", o.name)
		}
	}
	time.Sleep(3 * time.Second) // routes settle (the first segment learns the second's)
	others := slices.DeleteFunc(slices.Clone(nodes), func(o *node) bool { return o == origin })

	fmt.Printf("\nAll-hands alert from a0 to the %d other nodes of %d on two segments joined by one relay\n\n", len(others), len(nodes))
	fmt.Println("| run | p50 | max | farthest | load (1 min) |")
	fmt.Println("|---|---|---|---|---|")
	var p50s, maxes []time.Duration
	for run := 1; run <= runs; run++ {
		t0 := time.Now()
		id, err := origin.Alert(fmt.Sprintf("benchemergency alert %d", run))
		if err != nil {
			return err
		}
		var got []time.Duration
		far := ""
		for _, o := range others {
			e, err := o.WaitEventAny(30*time.Second, func(e netlab.Event) bool { return e.Name() == "alert" && e.Str("id") == id })
			if err != nil {
				return fmt.Errorf("%s never got alert %d: %w", o.name, run, err)
			}
			d := e.Time().Sub(t0)
			if len(got) == 0 || d > slices.Max(got) {
				far = o.name
			}
			got = append(got, d)
		}
		slices.Sort(got)
		p50s, maxes = append(p50s, got[len(got)/2]), append(maxes, got[len(got)-1])
		fmt.Printf("| %d | %.0f ms | %.0f ms | %s | %s |\n", run, ms(got[len(got)/2]), ms(got[len(got)-1]), far, load())
		time.Sleep(2 * time.Second)
	}
	fmt.Printf("\np50 over runs (min / median / max): %s; max: %s\n", spread(p50s), spread(maxes))
	return nil
}
