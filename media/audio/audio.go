package audio

import (
	"errors"
	"fmt"
	"time"
)

// The one PCM format of the voice pipeline: 48 kHz mono, 20 ms frames.
const (
	SampleRate    = 48000
	Channels      = 1
	FrameSamples  = SampleRate * 20 / 1000 // untyped, so it mixes with uint32 timestamps
	FrameDuration = 20 * time.Millisecond
)

// ErrClosed is returned by a Source or Sink used after Close.
var ErrClosed = errors.New("audio: closed")

// Source produces mono PCM at SampleRate.
type Source interface {
	// ReadFrame fills dst (len FrameSamples) with the next frame. It returns io.EOF
	// once a finite source is exhausted; dst is then left unspecified.
	ReadFrame(dst []int16) error
	Close() error
}

// Sink consumes mono PCM at SampleRate.
type Sink interface {
	// WriteFrame takes one frame (len FrameSamples). It returns quickly: a device sink
	// queues a little audio and drops the oldest when the queue is full. The sink does
	// not keep src after returning.
	WriteFrame(src []int16) error
	Close() error
}

// checkFrame rejects buffers of the wrong size early, with the size in the error,
// rather than letting a short buffer produce a silently truncated frame.
func checkFrame(buf []int16) error {
	if len(buf) != FrameSamples {
		return &FrameSizeError{Got: len(buf)}
	}
	return nil
}

// FrameSizeError reports a frame buffer whose length is not FrameSamples.
type FrameSizeError struct{ Got int }

func (e *FrameSizeError) Error() string {
	return fmt.Sprintf("audio: frame of %d samples, want %d", e.Got, FrameSamples)
}
