package audio

import (
	"errors"
	"io"
	"sync/atomic"
)

// SilenceAfterEOF wraps a finite source so that, once it is exhausted, it goes on
// producing silence instead of io.EOF. A call fed from a WAV file then stays up after
// the file ends (the far end hears nothing rather than a hang-up), which is what a
// test harness driving a call usually wants.
type SilenceAfterEOF struct {
	Source
	ended atomic.Bool
}

// ReadFrame reads from the wrapped source until it reports io.EOF, then fills dst
// with silence. Other errors are passed on.
func (s *SilenceAfterEOF) ReadFrame(dst []int16) error {
	if !s.ended.Load() {
		err := s.Source.ReadFrame(dst)
		if !errors.Is(err, io.EOF) {
			return err
		}
		s.ended.Store(true)
	}
	if err := checkFrame(dst); err != nil {
		return err
	}
	clear(dst)
	return nil
}

// Ended reports whether the wrapped source has run out; safe from any goroutine.
func (s *SilenceAfterEOF) Ended() bool { return s.ended.Load() }
