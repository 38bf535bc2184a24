package selection

import (
	"testing"
	"time"
)

func ranking(pairs ...any) []Ranked {
	var r []Ranked
	for i := 0; i < len(pairs); i += 2 {
		r = append(r, Ranked{ID: pairs[i].(string), Cost: pairs[i+1].(float64)})
	}
	return r
}

// step is one look at a ranking, at a time since the test's start.
type step struct {
	name     string
	at       time.Duration
	ranked   []Ranked
	want     string
	switched bool
}

func runSteps(t *testing.T, h Hysteresis, steps []step) {
	t.Helper()
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	c := NewChooser(h)
	for _, s := range steps {
		got, sw := c.ChooseAt(t0.Add(s.at), "call", s.ranked)
		if got.ID != s.want || sw != s.switched {
			t.Fatalf("%s (at %v): got %s switched=%v, want %s switched=%v", s.name, s.at, got.ID, sw, s.want, s.switched)
		}
		if cur, _ := c.Current("call"); cur != s.want {
			t.Fatalf("%s: Current = %s", s.name, cur)
		}
	}
}

// The clear-gain rule alone (no persistent rule, no dwell) is the original one.
func TestChooserClearGain(t *testing.T) {
	h := Hysteresis{MinGain: DefaultMinGain, Ratio: DefaultRatio, SlowRatio: 1}
	runSteps(t, h, []step{
		{"first choice", 0, ranking("x", 40.0, "y", 60.0), "x", true},
		{"same best", 0, ranking("x", 41.0, "y", 60.0), "x", false},
		{"5 ms gain is noise", 0, ranking("y", 36.0, "x", 41.0), "x", false},
		{"30 ms gain but not below 2/3", 0, ranking("y", 170.0, "x", 200.0), "x", false},
		{"below 2/3 but under 10 ms", 0, ranking("y", 3.0, "x", 12.0), "x", false},
		{"and it never becomes one by lasting", time.Hour, ranking("y", 3.0, "x", 12.0), "x", false},
		{"30 ms gain and below 2/3", time.Hour, ranking("y", 50.0, "x", 80.0), "y", true},
		{"back to x only for a clear gain", time.Hour, ranking("x", 45.0, "y", 50.0), "y", false},
		{"current vanished: take the best at once", time.Hour, ranking("x", 45.0, "z", 46.0), "x", true},
	})
}

func TestChooserDefaults(t *testing.T) {
	const s = time.Second
	m := time.Minute
	runSteps(t, DefaultHysteresis(), []step{
		{"first choice", 0, ranking("x", 10.0, "y", 12.0), "x", true},
		// A clear gain is taken at once, dwell or not.
		{"clear gain within the dwell", 20 * s, ranking("y", 2.0, "x", 40.0), "y", true},
		// A modest gain must last for the hold, looked at as often as the caller
		// likes, and the dwell must be over.
		{"modest gain within the dwell", 30 * s, ranking("x", 5.0, "y", 7.0), "y", false},
		{"lasted the hold, dwell not over", 20*s + DefaultHold + 30*s, ranking("x", 5.0, "y", 7.0), "y", false},
		{"dwell over too", 20*s + DefaultDwell, ranking("x", 5.0, "y", 7.0), "x", true},
		// A gain that comes and goes is noise: every look that disagrees starts the hold again.
		{"gain appears", 10 * m, ranking("y", 3.0, "x", 5.0), "x", false},
		{"gain gone (within 20 %)", 10*m + 20*s, ranking("y", 4.2, "x", 5.0), "x", false},
		{"gain back", 10*m + 40*s, ranking("y", 3.0, "x", 5.0), "x", false},
		{"hold counted from its return", 10*m + 60*s, ranking("y", 3.0, "x", 5.0), "x", false},
		{"hold over since the return", 10*m + 40*s + DefaultHold, ranking("y", 3.0, "x", 5.0), "y", true},
		// A change of which candidate is best does not restart the hold: the current
		// choice has been beaten throughout.
		{"z beats y", 20 * m, ranking("z", 3.0, "x", 3.1, "y", 5.0), "y", false},
		{"x beats y", 20*m + DefaultHold, ranking("x", 3.0, "z", 3.1, "y", 5.0), "x", true},
		// A gain under the absolute floor never counts, however large as a ratio:
		// on a wired LAN the best relay is often a fraction of a ms ahead, noise.
		{"tiny costs", time.Hour, ranking("y", 0.5, "x", 1.4), "x", false},
		{"tiny costs, lasting", 2 * time.Hour, ranking("y", 0.5, "x", 1.4), "x", false},
		// Nor do gains over the floor that are under 20 %.
		{"large costs, 15 % gain, lasting", 3 * time.Hour, ranking("y", 85.0, "x", 100.0), "x", false},
		{"still lasting", 4 * time.Hour, ranking("y", 85.0, "x", 100.0), "x", false},
		// The dwell does not hold back a replacement for a choice that vanished.
		{"current gone", 4*time.Hour + s, ranking("y", 5.0, "z", 9.0), "y", true},
		{"and again at once", 4*time.Hour + 2*s, ranking("z", 9.0), "z", true},
	})
}

// Each rule can be set on its own: a long dwell with a short hold, and the other way.
func TestChooserHoldAndDwell(t *testing.T) {
	const s = time.Second
	h := Hysteresis{MinGain: DefaultMinGain, Ratio: DefaultRatio, SlowRatio: 0.8, Hold: 0, Dwell: 5 * time.Minute}
	runSteps(t, h, []step{
		{"first", 0, ranking("x", 5.0, "y", 6.0), "x", true},
		{"no hold, but dwell", 10 * s, ranking("y", 3.0, "x", 5.0), "x", false},
		{"dwell over", 5 * time.Minute, ranking("y", 3.0, "x", 5.0), "y", true},
	})
	h.Hold, h.Dwell = time.Minute, 0
	runSteps(t, h, []step{
		{"first", 0, ranking("x", 5.0, "y", 6.0), "x", true},
		{"no dwell, but hold", 10 * s, ranking("y", 3.0, "x", 5.0), "x", false},
		{"hold not over", 69 * s, ranking("y", 3.0, "x", 5.0), "x", false},
		{"hold over", 70 * s, ranking("y", 3.0, "x", 5.0), "y", true},
	})
}

// Time is the caller's: a clock that stands still never completes a hold or dwell,
// and one that jumps backwards only delays them.
func TestChooserTimeIsPassedIn(t *testing.T) {
	runSteps(t, DefaultHysteresis(), []step{
		{"first", time.Hour, ranking("x", 5.0, "y", 6.0), "x", true},
		{"gain, clock stopped", time.Hour, ranking("y", 3.0, "x", 5.0), "x", false},
		{"still stopped", time.Hour, ranking("y", 3.0, "x", 5.0), "x", false},
		{"clock went back", 0, ranking("y", 3.0, "x", 5.0), "x", false},
		{"the dwell on from the first look", time.Hour + DefaultDwell, ranking("y", 3.0, "x", 5.0), "y", true},
	})
}

func TestChooserKeptCostIsCurrent(t *testing.T) {
	c := NewChooser(DefaultHysteresis())
	now := time.Now()
	c.ChooseAt(now, "call", ranking("x", 45.0, "y", 60.0))
	// The returned entry carries the kept choice's current cost, not the best's.
	if got, sw := c.ChooseAt(now.Add(time.Second), "call", ranking("y", 40.0, "x", 45.0)); got.ID != "x" || got.Cost != 45 || sw {
		t.Fatalf("kept choice returned as %+v, switched=%v", got, sw)
	}
}

func TestChooserKeysAndEmpty(t *testing.T) {
	c := NewChooser(DefaultHysteresis())
	now := time.Now()
	c.ChooseAt(now, "a", ranking("x", 1.0))
	c.ChooseAt(now, "b", ranking("y", 1.0))
	// Keys are independent: "a" vanished from its ranking, "b" is unaffected.
	if got, _ := c.ChooseAt(now, "a", ranking("y", 1.0)); got.ID != "y" {
		t.Fatalf("key a: %s", got.ID)
	}
	if cur, _ := c.Current("b"); cur != "y" {
		t.Fatalf("key b: %s", cur)
	}
	if got, sw := c.ChooseAt(now, "b", nil); got.ID != "" || sw {
		t.Fatalf("empty ranking: %+v %v", got, sw)
	}
	if _, ok := c.Current("b"); ok {
		t.Fatal("empty ranking did not forget the key")
	}
	c.Forget("a")
	if _, sw := c.Choose("a", ranking("x", 1.0)); !sw {
		t.Fatal("a forgotten key's next choice is not a switch")
	}
}

// withCPU is a Ranked whose cost is rest plus a CPU term of cpu.
func withCPU(id string, rest, cpu float64) Ranked {
	r := Ranked{ID: id, Cost: rest + cpu}
	r.Terms[TermCPU] = cpu
	return r
}

// A challenger that is better only by a CPU difference within CPUDeadBand of the
// current's CPU term does not move the choice; beyond the band, and on any other
// term, it does. The live lab's flaps came from such differences (24 ms-eq between
// relays reading one machine's CPU).
func TestChooserCPUDeadBand(t *testing.T) {
	h := Hysteresis{MinGain: DefaultMinGain, Ratio: DefaultRatio, SlowRatio: 1}
	runSteps(t, h, []step{
		{"first choice", 0, []Ranked{withCPU("x", 30, 8), withCPU("y", 31, 9)}, "x", true},
		// x's CPU term went 8 → 38 (ρ 0.8 → 0.95): y at 44 is 24 ms-eq cheaper and
		// below 2/3 of x's 68 at face value; with the band's 7.6 (0.2 × 38) it is
		// 51.6, not below 2/3.
		{"cpu swing within the band", 0, []Ranked{withCPU("y", 30, 14), withCPU("x", 30, 38)}, "x", false},
		// The same 24 ms-eq on RTT is a clear gain.
		{"rtt gain is not held", 0, []Ranked{withCPU("y", 30, 14), withCPU("x", 54, 14)}, "y", true},
		// y's CPU term at 60 against x's 4: 56 apart, 12 within the band, 44 beyond.
		{"a large cpu gap still moves", 0, []Ranked{withCPU("x", 6, 4), withCPU("y", 6, 60)}, "x", true},
	})
}
