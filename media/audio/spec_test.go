package audio

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"parley/media/signal"
)

func TestParseSource(t *testing.T) {
	buf := make([]int16, FrameSamples)

	src, err := ParseSource("tone:440")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(*PacedSource); !ok {
		t.Fatalf("tone source %T is not paced", src)
	}
	// The first frame of a paced source is immediate.
	if err := src.ReadFrame(buf); err != nil {
		t.Fatal(err)
	}
	if f := signal.DominantFrequency(buf, SampleRate); math.Abs(f-440) > 5 {
		t.Fatalf("tone:440 gave %.1f Hz", f)
	}
	src.Close()

	src, err = ParseSource("null")
	if err != nil {
		t.Fatal(err)
	}
	if err := src.ReadFrame(buf); err != nil || signal.RMS(buf) != 0 {
		t.Fatalf("null: %v", err)
	}
	src.Close()

	// A WAV source plays the file, then silence instead of EOF.
	path := filepath.Join(t.TempDir(), "in.WAV")
	sink, err := ParseSink(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 4000
	}
	sink.WriteFrame(buf)
	sink.Close()
	src, err = ParseSource(path)
	if err != nil {
		t.Fatal(err)
	}
	p := src.(*PacedSource)
	p.clock = &fakeClock{} // the second read must not wait for real time
	if err := src.ReadFrame(buf); err != nil || buf[0] != 4000 {
		t.Fatalf("WAV frame: %v, first sample %d", err, buf[0])
	}
	go func() { p.clock.(*fakeClock).ticker.c <- time.Time{} }()
	if err := src.ReadFrame(buf); err != nil || signal.RMS(buf) != 0 {
		t.Fatalf("after the file: %v, RMS %v", err, signal.RMS(buf))
	}
	src.Close()

	for _, bad := range []string{"", "tone", "tone:", "tone:abc", "tone:-3", "tone:30000", "file.mp3", "speaker"} {
		if s, err := ParseSource(bad); err == nil {
			s.Close()
			t.Errorf("source %q accepted", bad)
		}
	}
	if _, err := ParseSource(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing WAV: %v", err)
	}
	if _, err := ParseSource("device:no such device 7f3a"); !errors.Is(err, ErrNoDevice) {
		t.Errorf("made-up capture device: %v", err)
	}
}

func TestParseSink(t *testing.T) {
	s, err := ParseSink("null")
	if err != nil || s.WriteFrame(make([]int16, FrameSamples)) != nil {
		t.Fatalf("null sink: %v", err)
	}
	path := filepath.Join(t.TempDir(), "rec.wav")
	s, err = ParseSink(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*WAVSink); !ok {
		t.Fatalf("%s gave %T", path, s)
	}
	s.Close()
	w, err := OpenWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.ReadFrame(make([]int16, FrameSamples)); !errors.Is(err, io.EOF) {
		t.Fatalf("empty recording: %v", err)
	}
	w.Close()
	for _, bad := range []string{"", "tone:440", "out.ogg"} {
		if _, err := ParseSink(bad); err == nil {
			t.Errorf("sink %q accepted", bad)
		}
	}
	if _, err := ParseSink("device:no such device 7f3a"); !errors.Is(err, ErrNoDevice) {
		t.Errorf("made-up playback device: %v", err)
	}
}
