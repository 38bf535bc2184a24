package audio

import "sync"

// MemorySink records every frame written to it, for tests that compare what was played
// with what was sent. It is safe for concurrent use.
type MemorySink struct {
	mu      sync.Mutex
	max     int
	samples []int16
	dropped int
	closed  bool
}

// NewMemorySink keeps at most maxSamples samples (0: no limit); later frames are
// counted as dropped, so a runaway test cannot exhaust memory.
func NewMemorySink(maxSamples int) *MemorySink { return &MemorySink{max: maxSamples} }

// WriteFrame appends a copy of src.
func (m *MemorySink) WriteFrame(src []int16) error {
	if err := checkFrame(src); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.max > 0 && len(m.samples)+len(src) > m.max {
		m.dropped += len(src)
		return nil
	}
	m.samples = append(m.samples, src...)
	return nil
}

// Samples returns a copy of everything recorded so far.
func (m *MemorySink) Samples() []int16 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int16(nil), m.samples...)
}

// Dropped is the number of samples refused because the sink was full.
func (m *MemorySink) Dropped() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dropped
}

// Close stops recording; Samples still works.
func (m *MemorySink) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}
