package voice

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"parley/media/audio"
	"parley/media/opus"
)

func newReceiver(t *testing.T) (*Receiver, *audio.MemorySink) {
	t.Helper()
	sink := audio.NewMemorySink(0)
	r, err := NewReceiver(sink, ReceiverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return r, sink
}

func TestReceiverSurvivesBadPackets(t *testing.T) {
	r, sink := newReceiver(t)
	enc, _ := opus.NewEncoder(opus.Options{})
	tone := audio.NewTone(300, 0.3)
	pcm := make([]int16, audio.FrameSamples)
	buf := make([]byte, opus.MaxPacket)
	for i := range 60 {
		tone.ReadFrame(pcm)
		n, _ := enc.Encode(pcm, buf)
		payload := buf[:n]
		if i == 30 {
			payload = []byte{0x03, 0x00} // invalid Opus: code 3 with no frames
		}
		at := t0.Add(time.Duration(i) * audio.FrameDuration)
		r.Push(uint16(i), uint32(i*audio.FrameSamples), payload, at)
		// The caller's buffer is reused at once: Push must have copied it.
		clear(buf)
		if err := r.PlayFrame(at.Add(10 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	r.Push(60, 60*audio.FrameSamples, nil, t0)
	r.Push(61, 61*audio.FrameSamples, make([]byte, 5000), t0)
	st := r.Stats()
	if st.DecodeErrors != 1 || st.Refused != 2 || st.FramesWritten != 60 {
		t.Fatalf("stats %+v", st)
	}
	if len(sink.Samples()) != 60*audio.FrameSamples {
		t.Fatalf("sink got %d samples", len(sink.Samples()))
	}
	if st.Level < 0.1 {
		t.Fatalf("level %.3f while a tone plays: packets were not copied", st.Level)
	}
}

func TestReceiverRunStops(t *testing.T) {
	r, _ := newReceiver(t)
	ticks := make(chan time.Time)
	done := make(chan error)
	go func() { done <- r.Run(context.Background(), ticks) }()
	ticks <- t0
	ticks <- t0.Add(audio.FrameDuration)
	close(ticks)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.FramesWritten != 2 || st.Buffer.Silence != 2 {
		t.Fatalf("two ticks without packets: %+v", st)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- r.Run(ctx, make(chan time.Time)) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A failing sink stops Run with its error.
	sink := audio.NewMemorySink(0)
	sink.Close()
	r2, _ := NewReceiver(sink, ReceiverConfig{})
	ticks = make(chan time.Time, 1)
	ticks <- t0
	if err := r2.Run(context.Background(), ticks); !errors.Is(err, audio.ErrClosed) {
		t.Fatalf("closed sink: %v", err)
	}
}

// frames yields n frames, then io.EOF, or err instead of io.EOF if set.
type frames struct {
	n   int
	err error
}

func (f *frames) ReadFrame(dst []int16) error {
	if f.n == 0 {
		if f.err != nil {
			return f.err
		}
		return io.EOF
	}
	f.n--
	clear(dst)
	return nil
}
func (f *frames) Close() error { return nil }

func TestSenderEnds(t *testing.T) {
	enc, _ := opus.NewEncoder(opus.Options{})
	count := 0
	write := func([]byte, time.Duration) error { count++; return nil }
	// A finite source ends Run cleanly.
	if err := NewSender(&frames{n: 7}, enc).Run(context.Background(), write); err != nil || count != 7 {
		t.Fatalf("finite source: %v after %d frames", err, count)
	}
	// A source error is returned, wrapped.
	boom := errors.New("microphone unplugged")
	if err := NewSender(&frames{n: 1, err: boom}, enc).Run(context.Background(), write); !errors.Is(err, boom) {
		t.Fatalf("source error: %v", err)
	}
	// So is a transport error.
	s := NewSender(&frames{n: 10}, enc)
	if err := s.Run(context.Background(), func([]byte, time.Duration) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("write error: %v", err)
	}
	if s.Stats().Frames != 0 {
		t.Fatal("a frame that failed to send was counted")
	}
	// Payloads are fresh slices the transport may keep.
	var kept [][]byte
	NewSender(&frames{n: 3}, enc).Run(context.Background(), func(p []byte, _ time.Duration) error {
		kept = append(kept, p)
		return nil
	})
	if &kept[0][0] == &kept[1][0] {
		t.Fatal("payload buffer reused between frames")
	}
}
