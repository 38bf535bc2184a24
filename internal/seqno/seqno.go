// Package seqno issues the sequence numbers of a node's signed announcements (its
// peer records and discovery beacons). Receivers keep the highest number per
// author and drop anything lower as stale or replayed, so a node's numbers must
// rise across restarts even when its clock does not: a node restarted with its
// clock set back used to publish numbers below its own last goodbye, which every
// peer kept, so it looked offline until its clock caught up.
//
// A number is max(last + 1, clock in µs): clock based, so a node whose store was
// lost still starts near the right place, and strictly increasing. The highest
// number issued is kept in the store, reserved ahead in blocks of reserveAhead so
// that issuing one costs no write almost always; a restart continues above the
// reservation. A number seen elsewhere that is higher (a peer relays this node's
// own record from an earlier run whose reservation was lost) is jumped past with
// Observe.
package seqno

import (
	"sync"
	"time"
)

// reserveAhead is how far past the last issued number the stored reservation
// runs: 10 minutes of clock µs. A node publishes a record at most every 250 ms
// and beacons every 5 s, so the store is written about once in 10 minutes, and a
// restart skips at most that much of the number space (2^64 µs is 584,000 years).
const reserveAhead = uint64(10 * time.Minute / time.Microsecond)

// Source issues strictly increasing sequence numbers. It is safe for concurrent use.
type Source struct {
	mu       sync.Mutex
	now      func() time.Time
	save     func(uint64) error
	last     uint64 // the highest number issued or observed
	reserved uint64 // every number issued so far is at most this; stored by save
	// SaveErr, if set, is told when the reservation could not be stored (the
	// number is issued all the same: an announcement is worth more than the
	// guarantee across a restart).
	SaveErr func(error)
}

// New starts a source above stored (the reservation a previous run saved; 0 if
// none). save stores a new reservation; nil keeps nothing across restarts.
func New(now func() time.Time, stored uint64, save func(uint64) error) *Source {
	if now == nil {
		now = time.Now
	}
	return &Source{now: now, save: save, last: stored, reserved: stored}
}

// Next issues the next number: above every number issued or observed before,
// and at least the clock in µs.
func (s *Source) Next() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := max(s.last+1, uint64(s.now().UnixMicro()))
	s.last = next
	if next > s.reserved && s.save != nil {
		r := next + reserveAhead
		if err := s.save(r); err != nil {
			if s.SaveErr != nil {
				s.SaveErr(err)
			}
		} else {
			s.reserved = r
		}
	}
	return next
}

// Observe notes a number of this node's own, seen elsewhere (it must come with a
// valid signature: only this node could have made it); the next number issued is
// above it.
func (s *Source) Observe(seen uint64) {
	s.mu.Lock()
	s.last = max(s.last, seen)
	s.mu.Unlock()
}

// Last is the highest number issued or observed so far.
func (s *Source) Last() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}
