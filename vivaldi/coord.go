package vivaldi

import (
	"math"
	"math/rand/v2"
	"time"
)

const (
	// CC is the fraction of the way towards the sample's position a node with equal
	// confidence to its remote moves (the paper's c_c).
	CC = 0.25
	// CE weights a new sample's relative error in the moving error estimate (c_e).
	CE = 0.25
	// MaxError is the error estimate of a coordinate that knows nothing; new
	// coordinates start there and the estimate never exceeds it, so one wild sample
	// cannot make a node distrust itself forever.
	MaxError = 1.5
	// MinError keeps the error estimate positive: a node claiming zero error would
	// make every neighbour defer to it completely (weight 1), itself move never.
	MinError = 0.01
	// MinHeight keeps heights positive (10 µs): a height can only model a delay.
	MinHeight = 0.01
	// maxSampleMs bounds accepted samples (one minute): anything larger is not an
	// RTT but a stall, and would fling the coordinate away.
	maxSampleMs = 60_000
	// maxMagnitude bounds coordinates (about 11 days in ms): beyond that the float
	// arithmetic is no longer meaningful and a remote claiming it is lying.
	maxMagnitude = 1e9
	// zeroPlane is the planar distance below which two coordinates are considered
	// coincident and the push direction is drawn at random.
	zeroPlane = 1e-6
)

// Coord is a Vivaldi coordinate. All fields are in milliseconds except Error, a
// relative error estimate. The zero Coord is usable: Update treats its zero error
// as "knows nothing" (MaxError), like New.
type Coord struct {
	X, Y   float64
	Height float64
	Error  float64
}

// New returns the coordinate of a node that has measured nothing yet.
func New() Coord { return Coord{Height: MinHeight, Error: MaxError} }

// Valid reports whether every field is finite and within the ranges Decode accepts.
func (c Coord) Valid() bool {
	for _, v := range [...]float64{c.X, c.Y, c.Height, c.Error} {
		if math.IsNaN(v) || math.Abs(v) > maxMagnitude {
			return false
		}
	}
	return c.Height >= 0 && c.Error >= 0 && c.Error <= MaxError
}

// IsZero reports whether c is the zero Coord, i.e. a peer that published none.
func (c Coord) IsZero() bool { return c == Coord{} }

// DistanceMs is the estimated RTT to o in milliseconds: planar distance plus both
// heights. It is NaN if either coordinate is not finite.
func (c Coord) DistanceMs(o Coord) float64 {
	// Sqrt, not Hypot: valid coordinates are far from overflowing, and this is
	// the inner loop of ranking.
	dx, dy := c.X-o.X, c.Y-o.Y
	return math.Sqrt(dx*dx+dy*dy) + c.Height + o.Height
}

// DistanceTo is the estimated RTT to o. Invalid coordinates give 0, so a caller that
// forgot to check Valid gets "unknown-ish", never a garbage duration.
func (c Coord) DistanceTo(o Coord) time.Duration {
	d := c.DistanceMs(o)
	if math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
		return 0
	}
	return time.Duration(d * float64(time.Millisecond))
}

// Displacement is how far c has moved to reach o, in ms: planar distance plus the
// height change. Unlike DistanceMs it is 0 for equal coordinates, which is what a
// "has my coordinate changed materially" check needs.
func (c Coord) Displacement(o Coord) float64 {
	return math.Hypot(c.X-o.X, c.Y-o.Y) + math.Abs(c.Height-o.Height)
}

// Update moves c after one RTT sample to a remote whose coordinate is remote. Zero
// vectors (coincident coordinates, e.g. two fresh nodes) are pushed apart in a random
// direction from math/rand/v2's global source; use UpdateRand for reproducibility.
func (c *Coord) Update(remote Coord, rtt time.Duration) { c.UpdateRand(remote, rtt, nil) }

// UpdateRand is Update with the random source for the zero-vector direction
// injected (nil = the global source). Samples that are not positive, longer than a
// minute, or against an invalid remote are ignored, and an update that would produce
// a non-finite coordinate is discarded, so c stays valid whatever the input.
func (c *Coord) UpdateRand(remote Coord, rtt time.Duration, rnd *rand.Rand) {
	sample := float64(rtt) / float64(time.Millisecond)
	if rtt <= 0 || sample > maxSampleMs || !remote.Valid() {
		return
	}
	cur, rem := c.sane(), remote.sane()

	dx, dy := cur.X-rem.X, cur.Y-rem.Y
	plane := math.Hypot(dx, dy)
	hsum := cur.Height + rem.Height
	dist := plane + hsum

	// Weight of this sample: how unsure we are relative to the remote.
	w := cur.Error / (cur.Error + rem.Error)
	relErr := math.Abs(dist-sample) / sample
	next := cur
	next.Error = clamp(relErr*CE*w+cur.Error*(1-CE*w), MinError, MaxError)

	// Move along the height vector [dx, dy, hsum] / (plane + hsum) by
	// CC·w·(sample − dist): outward when the estimate is too short, inward when too
	// long. Coincident planar positions have no direction; take a random one and
	// split the push evenly between plane and height, as if plane were hsum.
	force := CC * w * (sample - dist)
	if plane < zeroPlane {
		ux, uy := randomUnit(rnd)
		dx, dy, plane = ux*hsum, uy*hsum, hsum
		dist = plane + hsum
	}
	next.X += force * dx / dist
	next.Y += force * dy / dist
	next.Height = math.Max(cur.Height+force*hsum/dist, MinHeight)
	if next.Valid() {
		*c = next
	}
}

// sane returns c with its error and height brought into range (a zero or invalid
// error means "knows nothing"), so arithmetic on it is well-defined.
func (c Coord) sane() Coord {
	if !(c.Error > 0) || c.Error > MaxError {
		c.Error = MaxError
	}
	c.Error = math.Max(c.Error, MinError)
	c.Height = math.Max(c.Height, MinHeight)
	return c
}

func randomUnit(rnd *rand.Rand) (float64, float64) {
	var a float64
	if rnd != nil {
		a = rnd.Float64()
	} else {
		a = rand.Float64()
	}
	s, co := math.Sincos(2 * math.Pi * a)
	return co, s
}

func clamp(v, lo, hi float64) float64 { return math.Min(math.Max(v, lo), hi) }
