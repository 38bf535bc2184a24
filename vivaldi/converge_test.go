package vivaldi

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// space is a synthetic metric space: nodes in a 100 ms square plus an access height
// each, RTT = planar distance + both heights, times multiplicative noise per sample.
type space struct {
	x, y, h []float64
}

func newSpace(n int, rnd *rand.Rand) *space {
	s := &space{}
	for range n {
		s.x = append(s.x, rnd.Float64()*100)
		s.y = append(s.y, rnd.Float64()*100)
		s.h = append(s.h, 1+rnd.Float64()*9)
	}
	return s
}

func (s *space) rtt(i, j int) float64 {
	return math.Hypot(s.x[i]-s.x[j], s.y[i]-s.y[j]) + s.h[i] + s.h[j]
}

func (s *space) sample(i, j int, rnd *rand.Rand) time.Duration {
	noise := 1 + 0.1*(2*rnd.Float64()-1) // ±10 %
	return time.Duration(s.rtt(i, j) * noise * float64(time.Millisecond))
}

func medianRelErr(s *space, c []Coord) float64 {
	var errs []float64
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			truth := s.rtt(i, j)
			errs = append(errs, math.Abs(c[i].DistanceMs(c[j])-truth)/truth)
		}
	}
	slices.Sort(errs)
	return errs[len(errs)/2]
}

// run lets every node sample `per` random others per round; outlier(i, round) may
// replace the sample with a wild one, and filters (if non-nil) smooth per pair.
func run(s *space, c []Coord, rounds, per int, rnd *rand.Rand, outlier func() bool, filters map[[2]int]*Filter) {
	for range rounds {
		for i := range c {
			for range per {
				j := rnd.IntN(len(c) - 1)
				if j >= i {
					j++
				}
				rtt := s.sample(i, j, rnd)
				if outlier != nil && outlier() {
					rtt *= 20
				}
				if filters != nil {
					f := filters[[2]int{i, j}]
					if f == nil {
						f = &Filter{}
						filters[[2]int{i, j}] = f
					}
					rtt = f.Add(rtt)
				}
				c[i].UpdateRand(c[j], rtt, rnd)
			}
		}
	}
}

func TestConvergesOnSyntheticSpace(t *testing.T) {
	rnd := rand.New(rand.NewPCG(42, 7))
	s := newSpace(50, rnd)
	c := make([]Coord, 50)
	for i := range c {
		c[i] = New()
	}
	run(s, c, 200, 4, rnd, nil, nil)
	got := medianRelErr(s, c)
	t.Logf("median relative error after 200 rounds: %.1f %%", 100*got)
	if got > 0.15 {
		t.Fatalf("median relative error %.1f %%, want < 15 %%", 100*got)
	}
	var errSum float64
	for _, ci := range c {
		errSum += ci.Error
	}
	if mean := errSum / float64(len(c)); mean > 0.3 {
		t.Fatalf("mean error estimate %.2f: nodes do not trust converged coordinates", mean)
	}
}

func TestStableUnderOutliers(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 9))
	s := newSpace(50, rnd)
	c := make([]Coord, 50)
	for i := range c {
		c[i] = New()
	}
	filters := map[[2]int]*Filter{}
	run(s, c, 200, 4, rnd, nil, filters)
	base := medianRelErr(s, c)

	// Raw: every node sees a few 20× outliers, then normal traffic resumes briefly.
	raw := slices.Clone(c)
	for i := range raw {
		for k := range 3 {
			j := (i + 1 + k) % len(raw)
			raw[i].UpdateRand(raw[j], 20*s.sample(i, j, rnd), rnd)
		}
	}
	run(s, raw, 10, 4, rnd, nil, nil)
	if got := medianRelErr(s, raw); got > 0.15 {
		t.Fatalf("after 3 raw outliers per node: median error %.1f %% (was %.1f %%)", 100*got, 100*base)
	}

	// Filtered: 5 % of all samples are outliers, continuously.
	filtered := slices.Clone(c)
	run(s, filtered, 50, 4, rnd, func() bool { return rnd.Float64() < 0.05 }, filters)
	got := medianRelErr(s, filtered)
	t.Logf("median error: converged %.1f %%, with 5 %% outliers filtered %.1f %%", 100*base, 100*got)
	if got > 0.15 || got > base+0.03 {
		t.Fatalf("with filtered outliers: median error %.1f %% (was %.1f %%)", 100*got, 100*base)
	}
}
