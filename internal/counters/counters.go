// Package counters is a tiny set of named counters shared by the core packages, so
// that drops and rejections are visible to tests and to the headless "stats" command.
package counters

import "sync"

// Set is a concurrency-safe map of named counters; the zero value is ready to use.
type Set struct {
	mu sync.Mutex
	m  map[string]uint64
}

// Add increments key by n.
func (s *Set) Add(key string, n uint64) {
	s.mu.Lock()
	if s.m == nil {
		s.m = map[string]uint64{}
	}
	s.m[key] += n
	s.mu.Unlock()
}

// Get returns one counter.
func (s *Set) Get(key string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key]
}

// Snapshot copies all counters.
func (s *Set) Snapshot() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]uint64, len(s.m))
	for k, v := range s.m {
		out[k] = v
	}
	return out
}
