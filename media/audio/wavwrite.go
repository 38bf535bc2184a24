package audio

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
)

const (
	wavHeaderSize = 44
	// The header is rewritten after every second of audio, so a crash loses at most
	// that much; once a second the cost (one flush, one 44-byte pwrite) is nothing.
	headerEveryFrames = SampleRate / FrameSamples
)

// WAVSink writes frames to a 48 kHz mono 16-bit WAV file. It is safe for concurrent
// use (the playout loop writes while another goroutine may Close).
type WAVSink struct {
	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	buf     []byte
	samples int64
	pending int // frames since the header was last rewritten
	closed  bool
}

// CreateWAV creates (or truncates) the file at path and writes a header for an empty
// recording.
func CreateWAV(path string) (*WAVSink, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("audio: create WAV: %w", err)
	}
	s := &WAVSink{f: f, w: bufio.NewWriterSize(f, 32<<10), buf: make([]byte, 2*FrameSamples)}
	if _, err := f.Write(wavHeader(0)); err != nil {
		f.Close()
		return nil, fmt.Errorf("audio: write WAV header to %s: %w", path, err)
	}
	return s, nil
}

// WriteFrame appends one frame.
func (s *WAVSink) WriteFrame(src []int16) error {
	if err := checkFrame(src); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	for i, v := range src {
		binary.LittleEndian.PutUint16(s.buf[2*i:], uint16(v))
	}
	if _, err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("audio: write WAV %s: %w", s.f.Name(), err)
	}
	s.samples += int64(len(src))
	s.pending++
	if s.pending >= headerEveryFrames {
		return s.syncHeader()
	}
	return nil
}

// syncHeader flushes buffered samples and then makes the header describe them, in
// that order, so the header never claims samples that are not on disk.
func (s *WAVSink) syncHeader() error {
	s.pending = 0
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("audio: write WAV %s: %w", s.f.Name(), err)
	}
	if _, err := s.f.WriteAt(wavHeader(s.samples*2), 0); err != nil {
		return fmt.Errorf("audio: update WAV header of %s: %w", s.f.Name(), err)
	}
	return nil
}

// Close writes the final sizes and closes the file.
func (s *WAVSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.syncHeader()
	if cerr := s.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("audio: close WAV: %w", cerr)
	}
	return err
}

// wavHeader is the canonical 44-byte header for dataBytes of 48 kHz mono 16-bit PCM.
// Past 4 GiB the sizes cannot be represented and are written as 0xFFFFFFFF, which
// readers (this one included) take as "until end of file".
func wavHeader(dataBytes int64) []byte {
	data, riff := uint32(unknownSize), uint32(unknownSize)
	if dataBytes <= unknownSize-36 {
		data, riff = uint32(dataBytes), uint32(dataBytes+36)
	}
	h := make([]byte, 0, wavHeaderSize)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, riff)
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)
	h = binary.LittleEndian.AppendUint16(h, wavFormatPCM)
	h = binary.LittleEndian.AppendUint16(h, Channels)
	h = binary.LittleEndian.AppendUint32(h, SampleRate)
	h = binary.LittleEndian.AppendUint32(h, SampleRate*Channels*2)
	h = binary.LittleEndian.AppendUint16(h, Channels*2)
	h = binary.LittleEndian.AppendUint16(h, 16)
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, data)
	return h
}
