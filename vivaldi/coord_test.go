package vivaldi

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestDistanceAddsHeights(t *testing.T) {
	a := Coord{X: 0, Y: 0, Height: 1}
	b := Coord{X: 3, Y: 4, Height: 2}
	if got, want := a.DistanceTo(b), 8*time.Millisecond; got != want {
		t.Fatalf("DistanceTo = %v, want %v", got, want)
	}
	if got := a.Displacement(a); got != 0 {
		t.Fatalf("Displacement to self = %v, want 0", got)
	}
	if got := (Coord{X: math.NaN()}).DistanceTo(b); got != 0 {
		t.Fatalf("DistanceTo from NaN = %v, want 0", got)
	}
}

func TestUpdateMovesTowardsSample(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	remote := Coord{X: 0, Y: 0, Height: 1, Error: 0.1}
	c := Coord{X: 10, Y: 0, Height: 1, Error: 1}
	// Estimate 12 ms, sample 40 ms: c must move away along +X.
	before := c.DistanceMs(remote)
	c.UpdateRand(remote, 40*time.Millisecond, rnd)
	after := c.DistanceMs(remote)
	if !(after > before && after < 40) {
		t.Fatalf("distance %v -> %v, want it to grow towards 40", before, after)
	}
	if c.Y != 0 {
		t.Fatalf("moved off the X axis: %+v", c)
	}
	// Sample 5 ms: it must come back closer.
	c.UpdateRand(remote, 5*time.Millisecond, rnd)
	if c.DistanceMs(remote) >= after {
		t.Fatalf("did not move closer: %+v", c)
	}
}

func TestUpdateSeparatesCoincidentNodes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	a, b := New(), New()
	for range 50 {
		a2 := a
		a.UpdateRand(b, 20*time.Millisecond, rnd)
		b.UpdateRand(a2, 20*time.Millisecond, rnd)
	}
	if math.Hypot(a.X-b.X, a.Y-b.Y) < 1 {
		t.Fatalf("fresh nodes never left the origin plane: %+v %+v", a, b)
	}
	if rel := math.Abs(a.DistanceMs(b)-20) / 20; rel > 0.1 {
		t.Fatalf("distance %.2f after 50 rounds, want ≈ 20", a.DistanceMs(b))
	}
}

func TestZeroCoordIsFresh(t *testing.T) {
	var c Coord
	c.UpdateRand(Coord{X: 5, Height: 1, Error: 0.2}, 30*time.Millisecond, rand.New(rand.NewPCG(1, 1)))
	if c.IsZero() || !c.Valid() {
		t.Fatalf("zero coord did not move or is invalid: %+v", c)
	}
}

func TestUpdateIgnoresBadInput(t *testing.T) {
	start := Coord{X: 1, Y: 2, Height: 3, Error: 0.5}
	bad := []struct {
		name   string
		remote Coord
		rtt    time.Duration
	}{
		{"zero rtt", Coord{Error: 0.5}, 0},
		{"negative rtt", Coord{Error: 0.5}, -time.Millisecond},
		{"huge rtt", Coord{Error: 0.5}, time.Hour},
		{"NaN remote", Coord{X: math.NaN(), Error: 0.5}, time.Millisecond},
		{"Inf remote", Coord{Y: math.Inf(1), Error: 0.5}, time.Millisecond},
		{"negative height", Coord{Height: -1, Error: 0.5}, time.Millisecond},
		{"absurd remote", Coord{X: 1e12, Error: 0.5}, time.Millisecond},
	}
	for _, tc := range bad {
		c := start
		c.UpdateRand(tc.remote, tc.rtt, nil)
		if c != start {
			t.Errorf("%s: coordinate changed to %+v", tc.name, c)
		}
	}
}

func TestErrorStaysClamped(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	c := Coord{Error: MaxError}
	for i := range 1000 {
		rtt := time.Duration(1+rnd.IntN(50000)) * time.Microsecond
		if i%7 == 0 {
			rtt *= 1000
		}
		c.UpdateRand(Coord{X: rnd.NormFloat64() * 100, Y: rnd.NormFloat64() * 100, Height: 1, Error: rnd.Float64() * MaxError}, rtt, rnd)
		if !c.Valid() || c.Error < MinError || c.Error > MaxError || c.Height < MinHeight {
			t.Fatalf("step %d: out of range %+v", i, c)
		}
	}
}

func TestFilterMedian(t *testing.T) {
	var f Filter
	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	steps := []struct{ in, want int }{
		{10, 10}, {12, 10}, {500, 12}, {11, 11}, {600, 12}, {13, 13}, {12, 13}, {11, 12},
	}
	for i, s := range steps {
		if got := f.Add(ms(s.in)); got != ms(s.want) {
			t.Fatalf("step %d: Add(%d) = %v, want %v", i, s.in, got, ms(s.want))
		}
	}
}
