package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Errors from the WAV reader; the returned errors wrap one of these with the detail.
var (
	ErrNotWAV    = errors.New("audio: not a RIFF/WAVE file")
	ErrWAVFormat = errors.New("audio: unsupported WAV format")
)

const (
	wavFormatPCM        = 1
	wavFormatExtensible = 0xFFFE
	// A fmt chunk is at most 40 bytes in practice; the cap only stops a corrupt size
	// from making the reader allocate a lot.
	maxFmtChunk = 1 << 12
	minWAVRate  = 1000
	maxWAVRate  = 384000
	unknownSize = 0xFFFFFFFF
)

// WAVFormat is what a WAV file's header says about its samples.
type WAVFormat struct {
	SampleRate int
	Channels   int
}

// WAVSource reads a 16-bit PCM WAV file as 48 kHz mono frames (see the package doc
// for what is accepted). It is unpaced and finite: ReadFrame returns io.EOF after the
// last sample, the final frame padded with silence.
type WAVSource struct {
	r        *bufio.Reader
	c        io.Closer // nil when the caller owns the reader
	format   WAVFormat
	left     int64 // data bytes not read yet; -1 when the header gave no length
	block    []byte
	resample *linearResampler     // nil when the file is already 48 kHz
	read     func() (int16, bool) // nextSample, bound once so frames do not allocate
	eof      bool
}

// OpenWAV opens the WAV file at path.
func OpenWAV(path string) (*WAVSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audio: open WAV: %w", err)
	}
	w, err := NewWAVSource(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w.c = f
	return w, nil
}

// NewWAVSource parses the header from r and returns a source reading the samples that
// follow. Closing the source does not close r.
func NewWAVSource(r io.Reader) (*WAVSource, error) {
	br := bufio.NewReaderSize(r, 16<<10)
	format, dataSize, err := readWAVHeader(br)
	if err != nil {
		return nil, err
	}
	w := &WAVSource{r: br, format: format, left: dataSize, block: make([]byte, 2*format.Channels)}
	if format.SampleRate != SampleRate {
		w.resample = newLinearResampler(format.SampleRate)
	}
	w.read = w.nextSample
	return w, nil
}

// Format reports the file's own rate and channel count (before conversion).
func (w *WAVSource) Format() WAVFormat { return w.format }

// ReadFrame fills dst with the next 20 ms.
func (w *WAVSource) ReadFrame(dst []int16) error {
	if err := checkFrame(dst); err != nil {
		return err
	}
	n := 0
	for ; n < len(dst); n++ {
		var s int16
		var ok bool
		if w.resample != nil {
			s, ok = w.resample.sample(w.read)
		} else {
			s, ok = w.nextSample()
		}
		if !ok {
			break
		}
		dst[n] = s
	}
	if n == 0 {
		return io.EOF
	}
	clear(dst[n:])
	return nil
}

// nextSample returns the next input sample, stereo averaged to mono; false at the end
// of the data (a truncated file ends quietly: a half-written recording is still
// worth playing).
func (w *WAVSource) nextSample() (int16, bool) {
	if w.eof {
		return 0, false
	}
	if w.left >= 0 && w.left < int64(len(w.block)) {
		w.eof = true
		return 0, false
	}
	if _, err := io.ReadFull(w.r, w.block); err != nil {
		w.eof = true
		return 0, false
	}
	if w.left >= 0 {
		w.left -= int64(len(w.block))
	}
	s := int(int16(binary.LittleEndian.Uint16(w.block)))
	if len(w.block) == 4 {
		s = (s + int(int16(binary.LittleEndian.Uint16(w.block[2:])))) / 2
	}
	return int16(s), true
}

// Close closes the file if OpenWAV opened it.
func (w *WAVSource) Close() error {
	w.eof = true
	if w.c == nil {
		return nil
	}
	c := w.c
	w.c = nil
	return c.Close()
}

// readWAVHeader consumes everything up to the first sample and returns the format and
// the data size in bytes (-1: read to end of file).
func readWAVHeader(r io.Reader) (WAVFormat, int64, error) {
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return WAVFormat{}, 0, fmt.Errorf("%w: short header: %v", ErrNotWAV, err)
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return WAVFormat{}, 0, fmt.Errorf("%w: missing RIFF/WAVE magic", ErrNotWAV)
	}
	var (
		format  WAVFormat
		haveFmt bool
		chunk   [8]byte
	)
	for {
		if _, err := io.ReadFull(r, chunk[:]); err != nil {
			return WAVFormat{}, 0, fmt.Errorf("%w: no data chunk: %v", ErrNotWAV, err)
		}
		id, size := string(chunk[0:4]), binary.LittleEndian.Uint32(chunk[4:8])
		switch id {
		case "fmt ":
			if size < 16 || size > maxFmtChunk {
				return WAVFormat{}, 0, fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotWAV, size)
			}
			body := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, body); err != nil {
				return WAVFormat{}, 0, fmt.Errorf("%w: truncated fmt chunk: %v", ErrNotWAV, err)
			}
			f, err := parseFmtChunk(body[:size])
			if err != nil {
				return WAVFormat{}, 0, err
			}
			format, haveFmt = f, true
		case "data":
			if !haveFmt {
				return WAVFormat{}, 0, fmt.Errorf("%w: data chunk before fmt chunk", ErrNotWAV)
			}
			if size == 0 || size == unknownSize {
				return format, -1, nil
			}
			return format, int64(size), nil
		default:
			skip := int64(size) + int64(size%2)
			if n, err := io.CopyN(io.Discard, r, skip); err != nil {
				return WAVFormat{}, 0, fmt.Errorf("%w: truncated %q chunk (%d of %d bytes): %v", ErrNotWAV, id, n, skip, err)
			}
		}
	}
}

// parseFmtChunk checks the fmt chunk against what the reader can convert.
func parseFmtChunk(b []byte) (WAVFormat, error) {
	tag := binary.LittleEndian.Uint16(b[0:2])
	channels := int(binary.LittleEndian.Uint16(b[2:4]))
	rate := binary.LittleEndian.Uint32(b[4:8])
	align := int(binary.LittleEndian.Uint16(b[12:14]))
	bits := int(binary.LittleEndian.Uint16(b[14:16]))
	switch tag {
	case wavFormatPCM:
	case wavFormatExtensible:
		// The extension holds valid bits, channel mask and a GUID whose first two
		// bytes are the real format tag.
		if len(b) < 26 {
			return WAVFormat{}, fmt.Errorf("%w: extensible fmt chunk of %d bytes", ErrWAVFormat, len(b))
		}
		if sub := binary.LittleEndian.Uint16(b[24:26]); sub != wavFormatPCM {
			return WAVFormat{}, fmt.Errorf("%w: extensible sub-format %#04x, want PCM", ErrWAVFormat, sub)
		}
	default:
		return WAVFormat{}, fmt.Errorf("%w: format tag %#04x, want PCM (1)", ErrWAVFormat, tag)
	}
	if bits != 16 {
		return WAVFormat{}, fmt.Errorf("%w: %d bits per sample, want 16", ErrWAVFormat, bits)
	}
	if channels != 1 && channels != 2 {
		return WAVFormat{}, fmt.Errorf("%w: %d channels, want 1 or 2", ErrWAVFormat, channels)
	}
	if align != channels*2 {
		return WAVFormat{}, fmt.Errorf("%w: block align %d for %d channels", ErrWAVFormat, align, channels)
	}
	if rate < minWAVRate || rate > maxWAVRate {
		return WAVFormat{}, fmt.Errorf("%w: sample rate %d Hz", ErrWAVFormat, rate)
	}
	return WAVFormat{SampleRate: int(rate), Channels: channels}, nil
}

// ReadWAVFile reads every whole frame of the WAV file at path (a trailing
// partial frame is dropped): tests judge a call's recording with it.
func ReadWAVFile(path string) ([]int16, error) {
	src, err := OpenWAV(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var out []int16
	frame := make([]int16, FrameSamples)
	for {
		err := src.ReadFrame(frame)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, frame...)
	}
}
