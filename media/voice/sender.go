package voice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"parley/media/audio"
	"parley/media/opus"
)

// DTXMaxBytes is the largest packet the Opus encoder emits in place of a silent
// frame when DTX is on; such packets may be left unsent.
const DTXMaxBytes = 2

// Sender encodes a source's frames and hands them to a transport.
type Sender struct {
	src   audio.Source
	enc   *opus.Encoder
	muted atomic.Bool

	frames, bytes, dtx atomic.Uint64
}

// SenderStats counts what a Sender produced.
type SenderStats struct {
	Frames    uint64 // packets handed to write
	Bytes     uint64 // their payload bytes
	DTXFrames uint64 // of which DTX packets (DTXMaxBytes or less)
	Muted     bool
}

// NewSender returns a sender reading src and encoding with enc. Run owns both while it
// runs; closing src is left to the caller.
func NewSender(src audio.Source, enc *opus.Encoder) *Sender {
	return &Sender{src: src, enc: enc}
}

// SetMuted switches to encoding silence (true) or the source (false) from the next
// frame on. Safe from any goroutine.
func (s *Sender) SetMuted(on bool) { s.muted.Store(on) }

// Stats returns the counters; safe from any goroutine.
func (s *Sender) Stats() SenderStats {
	return SenderStats{
		Frames:    s.frames.Load(),
		Bytes:     s.bytes.Load(),
		DTXFrames: s.dtx.Load(),
		Muted:     s.muted.Load(),
	}
}

// Run reads, encodes and writes one frame at a time until ctx ends, the source ends
// (io.EOF) or something fails. write receives each packet (a fresh slice it may keep)
// and the audio duration it covers (20 ms). Run returns nil when ctx ended or the
// source ran out, including when the source reports it was closed after ctx ended;
// otherwise the error that stopped it. Cancellation is noticed between frames, so
// Run returns within one frame time of a paced source.
func (s *Sender) Run(ctx context.Context, write func(payload []byte, dur time.Duration) error) error {
	pcm := make([]int16, audio.FrameSamples)
	buf := make([]byte, opus.MaxPacket)
	for ctx.Err() == nil {
		if err := s.src.ReadFrame(pcm); err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("voice: read audio: %w", err)
		}
		if s.muted.Load() {
			clear(pcm)
		}
		n, err := s.enc.Encode(pcm, buf)
		if err != nil {
			return fmt.Errorf("voice: %w", err)
		}
		payload := append([]byte(nil), buf[:n]...)
		if err := write(payload, audio.FrameDuration); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("voice: send: %w", err)
		}
		s.frames.Add(1)
		s.bytes.Add(uint64(n))
		if n <= DTXMaxBytes {
			s.dtx.Add(1)
		}
	}
	return nil
}
