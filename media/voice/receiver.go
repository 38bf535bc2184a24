package voice

import (
	"context"
	"fmt"
	"sync"
	"time"

	"parley/media/audio"
	"parley/media/jitter"
	"parley/media/opus"
	"parley/media/signal"
)

// maxPayload bounds what Push accepts: libopus never produces more than this for
// one packet, so anything larger is not Opus and would only pin memory.
const maxPayload = 4000

// ReceiverConfig tunes a Receiver; the zero value is fine.
type ReceiverConfig struct {
	// Jitter configures the jitter buffer (delay bounds, caps).
	Jitter jitter.Config
}

// Receiver buffers received packets and plays them out one frame per tick.
type Receiver struct {
	sink audio.Sink
	dec  *opus.Decoder // used by the playout goroutine only
	pcm  []int16

	mu        sync.Mutex // guards everything below
	jb        *jitter.Buffer
	written   uint64
	decodeErr uint64
	refused   uint64
	level     float64
}

// ReceiverStats describes the received stream and its playout.
type ReceiverStats struct {
	// Jitter is the RFC 3550 interarrival jitter; TargetDelay the jitter buffer's
	// current playout delay target.
	Jitter, TargetDelay time.Duration
	// LossFraction is the share of frames whose packet was missing when due
	// (recovered or concealed), 0–1.
	LossFraction float64
	// FramesPlayed counts frames decoded from their own packet, Recovered frames
	// rebuilt from the next packet's FEC, Concealed frames the decoder made up,
	// FramesWritten every frame given to the sink, silence included.
	FramesPlayed, Recovered, Concealed, FramesWritten uint64
	// DecodeErrors counts packets libopus rejected (played as concealment), and
	// Refused packets Push turned away for being empty or too large to be Opus.
	DecodeErrors, Refused uint64
	// Level is the RMS of the last frame written, as a fraction of full scale.
	Level float64
	// Buffer has all the jitter buffer's counters.
	Buffer jitter.Stats
}

// NewReceiver returns a receiver playing into sink.
func NewReceiver(sink audio.Sink, cfg ReceiverConfig) (*Receiver, error) {
	dec, err := opus.NewDecoder()
	if err != nil {
		return nil, fmt.Errorf("voice: %w", err)
	}
	return &Receiver{
		sink: sink,
		dec:  dec,
		pcm:  make([]int16, audio.FrameSamples),
		jb:   jitter.New(cfg.Jitter),
	}, nil
}

// Push hands the receiver one packet: its RTP sequence number and timestamp, the
// Opus payload (copied, so the caller may reuse its buffer) and when it arrived, on
// the clock that also drives Run's ticks. Safe from any goroutine.
func (r *Receiver) Push(seq uint16, ts uint32, payload []byte, arrival time.Time) {
	if len(payload) == 0 || len(payload) > maxPayload {
		r.mu.Lock()
		r.refused++
		r.mu.Unlock()
		return
	}
	p := jitter.Packet{Seq: seq, Timestamp: ts, Payload: append([]byte(nil), payload...), Arrival: arrival}
	r.mu.Lock()
	r.jb.Push(p)
	r.mu.Unlock()
}

// Run plays one frame per tick until ctx ends or ticks is closed (returning nil), or
// the sink fails (returning that error).
func (r *Receiver) Run(ctx context.Context, ticks <-chan time.Time) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case now, ok := <-ticks:
			if !ok {
				return nil
			}
			if err := r.PlayFrame(now); err != nil {
				return err
			}
		}
	}
}

// PlayFrame is one step of Run: take the frame due at now from the jitter buffer,
// decode it and write it to the sink. Call it from one goroutine at a time.
func (r *Receiver) PlayFrame(now time.Time) error {
	r.mu.Lock()
	f := r.jb.Pop(now)
	r.mu.Unlock()

	failed := r.decode(f)
	level := signal.RMS(r.pcm)
	err := r.sink.WriteFrame(r.pcm)

	r.mu.Lock()
	r.written++
	r.level = level
	if failed {
		r.decodeErr++
	}
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("voice: play: %w", err)
	}
	return nil
}

// decode fills r.pcm for frame f, falling back to concealment when libopus rejects a
// packet (a corrupt packet should cost one frame, not the call). It reports whether
// that happened.
func (r *Receiver) decode(f jitter.Frame) (failed bool) {
	pcm := r.pcm
	var err error
	switch f.Kind {
	case jitter.Normal:
		var n int
		if n, err = r.dec.Decode(f.Payload, pcm); err == nil && n < len(pcm) {
			clear(pcm[n:])
		}
	case jitter.FEC:
		err = r.dec.DecodeFEC(f.Payload, pcm)
	case jitter.Conceal:
		err = r.dec.DecodePLC(pcm)
	default:
		clear(pcm)
		return false
	}
	if err == nil {
		return false
	}
	if r.dec.DecodePLC(pcm) != nil {
		clear(pcm)
	}
	return true
}

// Stats returns the current figures; safe from any goroutine.
func (r *Receiver) Stats() ReceiverStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.jb.Stats()
	s := ReceiverStats{
		Jitter:        b.Jitter,
		TargetDelay:   b.TargetDelay,
		FramesPlayed:  b.Played,
		Recovered:     b.FECRecovered,
		Concealed:     b.Concealed,
		FramesWritten: r.written,
		DecodeErrors:  r.decodeErr,
		Refused:       r.refused,
		Level:         r.level,
		Buffer:        b,
	}
	if due := b.Played + b.Lost; due > 0 {
		s.LossFraction = float64(b.Lost) / float64(due)
	}
	return s
}
