// Package hlc implements a hybrid logical clock (Kulkarni, Demirbas,
// Madappa, Avva and Leone, "Logical Physical Clocks", 2014).
//
// A hybrid logical clock issues timestamps that stay close to physical
// (wall-clock) time yet respect causality: a message received is always
// stamped later than the message that caused it, even when the sender's
// wall clock runs ahead of the receiver's. Parley uses it to order messages
// in a conversation between machines whose clocks disagree.
//
// # Layout
//
// A [Timestamp] is a uint64:
//
//	 63                              16 15              0
//	+----------------------------------+-----------------+
//	|  wall: Unix milliseconds (48 b)  | logical (16 b)  |
//	+----------------------------------+-----------------+
//
// Comparing two timestamps as plain uint64 values therefore orders them by
// wall time first and logical counter second. [Timestamp.AppendBinary]
// encodes the value as 8 bytes big-endian, so the byte-wise order of
// encodings equals the numeric order and an encoded timestamp can prefix
// bbolt keys. 48 bits of milliseconds reach the year 10889; wall times
// outside [0, 2^48) are clamped into that range.
//
// # Logical counter overflow
//
// When the clock has to issue a timestamp after one whose logical counter is
// already 65535 (more than 65536 events within one millisecond, or a long
// stretch during which the wall clock is frozen or behind), it carries into
// the wall component: the next timestamp has wall+1 and logical 0. The
// timestamp is still strictly greater (it is simply the next uint64), and
// its wall component runs at most slightly ahead of real time; ordinary
// timestamps catch up once the physical clock passes it.
//
// # Drift rule
//
// On receipt the clock normally adopts the remote timestamp if it is ahead
// of everything seen locally. A peer with a wildly wrong (or hostile) clock
// could thereby drag every node's clock far into the future, permanently,
// since a hybrid logical clock never goes back. To prevent that, a [Clock]
// has a maximum drift: a remote timestamp whose wall component is more than
// maxDrift ahead of the local physical clock is not adopted. [Clock.Update]
// then returns an error wrapping [ErrDrift], together with a fresh local
// timestamp (as [Clock.Now] would issue) that is greater than every
// timestamp issued before but not necessarily greater than the rejected
// remote one. The caller decides what to do with the message (for instance
// keep it, ordered by the local timestamp, and warn).
package hlc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
)

const (
	logicalBits = 16
	logicalMask = 1<<logicalBits - 1

	// MaxWallMillis is the largest wall-clock value (Unix milliseconds) a
	// Timestamp can hold.
	MaxWallMillis = 1<<(64-logicalBits) - 1

	// Size is the length of an encoded Timestamp in bytes.
	Size = 8

	// DefaultMaxDrift is the maximum drift used by NewClock when it is
	// given a non-positive one.
	DefaultMaxDrift = time.Minute
)

// MaxTimestamp is the largest representable Timestamp.
const MaxTimestamp Timestamp = 1<<64 - 1

var (
	// ErrDrift is wrapped by the error Update returns when a remote
	// timestamp is further ahead of the local wall clock than allowed.
	ErrDrift = errors.New("hlc: remote timestamp too far ahead of local clock")

	// ErrLength is wrapped by the error FromBytes returns for input that is
	// not exactly Size bytes long.
	ErrLength = errors.New("hlc: encoded timestamp must be 8 bytes")
)

// Timestamp packs 48 bits of Unix milliseconds and 16 bits of logical
// counter: it sorts as a uint64 and encodes in 8 bytes big-endian (so it can
// prefix bbolt keys). The zero Timestamp precedes every issued one.
type Timestamp uint64

// New builds a Timestamp. wallMillis is clamped to [0, MaxWallMillis].
func New(wallMillis int64, logical uint16) Timestamp {
	return Timestamp(uint64(clampWall(wallMillis))<<logicalBits | uint64(logical))
}

func clampWall(ms int64) int64 {
	switch {
	case ms < 0:
		return 0
	case ms > MaxWallMillis:
		return MaxWallMillis
	}
	return ms
}

// WallMillis returns the wall-clock component in Unix milliseconds.
func (t Timestamp) WallMillis() int64 { return int64(t >> logicalBits) }

// Logical returns the logical counter component.
func (t Timestamp) Logical() uint16 { return uint16(t & logicalMask) }

// Time returns the wall-clock component as a time.Time (the logical counter
// is dropped).
func (t Timestamp) Time() time.Time { return time.UnixMilli(t.WallMillis()) }

// String formats t as "<wall millis>.<logical>", the logical counter padded
// to at least four digits, e.g. "1763700000123.0004".
func (t Timestamp) String() string {
	return fmt.Sprintf("%d.%04d", t.WallMillis(), t.Logical())
}

// AppendBinary appends the 8-byte big-endian encoding of t to b.
//
// Note that, unlike encoding.BinaryAppender, it cannot fail and so returns
// no error.
func (t Timestamp) AppendBinary(b []byte) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(t))
}

// FromBytes decodes a Timestamp encoded by AppendBinary. b must be exactly
// Size bytes long; otherwise the error wraps ErrLength.
func FromBytes(b []byte) (Timestamp, error) {
	if len(b) != Size {
		return 0, fmt.Errorf("%w, got %d", ErrLength, len(b))
	}
	return Timestamp(binary.BigEndian.Uint64(b)), nil
}

// next returns the smallest Timestamp greater than t. Because the layout is
// a plain uint64, incrementing carries a logical overflow (65535) into the
// wall component: wall+1, logical 0.
//
// It panics if t is MaxTimestamp (the year 10889), which a Clock can only
// reach if it is fed such a timestamp through Observe.
func (t Timestamp) next() Timestamp {
	if t == MaxTimestamp {
		panic("hlc: timestamp space exhausted")
	}
	return t + 1
}

// Clock is a hybrid logical clock. It is safe for concurrent use. Create it
// with NewClock.
type Clock struct {
	now      func() time.Time
	maxDrift int64 // milliseconds

	mu   sync.Mutex
	last Timestamp
}

// NewClock returns a Clock reading physical time from now (time.Now if nil).
// A remote timestamp whose wall component is more than maxDrift ahead of
// now() is rejected by Update (see the package documentation); a
// non-positive maxDrift means DefaultMaxDrift.
func NewClock(now func() time.Time, maxDrift time.Duration) *Clock {
	if now == nil {
		now = time.Now
	}
	if maxDrift <= 0 {
		maxDrift = DefaultMaxDrift
	}
	return &Clock{now: now, maxDrift: maxDrift.Milliseconds()}
}

// physical reads the wall clock in Unix milliseconds, clamped to the
// representable range.
func (c *Clock) physical() int64 { return clampWall(c.now().UnixMilli()) }

// tick returns the timestamp to issue given the current floor and the
// physical time pt: the physical time itself if it is ahead of the floor,
// otherwise the floor's successor.
func tick(floor Timestamp, pt int64) Timestamp {
	if pt > floor.WallMillis() {
		return New(pt, 0)
	}
	return floor.next()
}

// Now issues a timestamp for a local or send event. Successive results are
// strictly increasing, even if the wall clock stands still or goes
// backwards.
func (c *Clock) Now() Timestamp {
	pt := c.physical()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = tick(c.last, pt)
	return c.last
}

// Update issues a timestamp for the receipt of a message stamped remote.
//
// If remote is acceptable, the result is greater than remote and than every
// timestamp the clock issued or observed before. If remote's wall component
// is more than maxDrift ahead of the local wall clock, it is ignored: the
// error wraps ErrDrift and the result is what Now would have returned
// (greater than everything issued before, but not necessarily than remote).
func (c *Clock) Update(remote Timestamp) (Timestamp, error) {
	pt := c.physical()
	c.mu.Lock()
	defer c.mu.Unlock()
	if ahead := remote.WallMillis() - pt; ahead > c.maxDrift {
		c.last = tick(c.last, pt)
		return c.last, fmt.Errorf("%w: %v ahead, limit %v", ErrDrift,
			time.Duration(ahead)*time.Millisecond,
			time.Duration(c.maxDrift)*time.Millisecond)
	}
	// The packed form makes the HLC receive rule a one-liner: taking the
	// larger of the two timestamps and incrementing it yields
	// max(l.c, m.c)+1 when the wall components tie, and the counter of the
	// larger one plus one otherwise.
	c.last = tick(max(c.last, remote), pt)
	return c.last, nil
}

// Last returns the greatest timestamp issued or observed so far (zero if
// none).
func (c *Clock) Last() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Observe raises the clock's floor to t without issuing a timestamp: every
// later result of Now and Update is greater than t. It never lowers the
// floor. Use it on restart with the newest stored timestamp, so that a node
// whose wall clock went backwards never reissues an old one. Unlike Update,
// it applies no drift check: t is trusted.
func (c *Clock) Observe(t Timestamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = max(c.last, t)
}
