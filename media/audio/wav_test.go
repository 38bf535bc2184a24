package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"parley/media/signal"
)

// wavSpec describes a WAV file to build; the zero value of each field takes a valid
// default, so a test names only what it breaks.
type wavSpec struct {
	tag        uint16
	channels   uint16
	rate       uint32
	align      uint16
	bits       uint16
	fmtExtra   []byte // appended to the 16-byte fmt body
	fmtSize    int    // overrides the fmt chunk's size field when non-zero
	before     []byte // raw chunks between the fmt and data chunks
	dataSize   int64  // -1: len(samples)*2; otherwise written as is
	samples    []int16
	after      []byte // raw bytes after the data chunk
	noFmt      bool
	magic      string
	dataFirst  bool
	truncateTo int // cut the file to this many bytes when non-zero
}

func (s wavSpec) build() []byte {
	if s.tag == 0 {
		s.tag = 1
	}
	if s.channels == 0 {
		s.channels = 1
	}
	if s.rate == 0 {
		s.rate = 48000
	}
	if s.bits == 0 {
		s.bits = 16
	}
	if s.align == 0 {
		s.align = s.channels * 2
	}
	if s.magic == "" {
		s.magic = "RIFFxxxxWAVE"
	}
	le := binary.LittleEndian
	fmtBody := le.AppendUint16(nil, s.tag)
	fmtBody = le.AppendUint16(fmtBody, s.channels)
	fmtBody = le.AppendUint32(fmtBody, s.rate)
	fmtBody = le.AppendUint32(fmtBody, s.rate*uint32(s.align))
	fmtBody = le.AppendUint16(fmtBody, s.align)
	fmtBody = le.AppendUint16(fmtBody, s.bits)
	fmtBody = append(fmtBody, s.fmtExtra...)
	size := len(fmtBody)
	if s.fmtSize != 0 {
		size = s.fmtSize
	}
	fmtChunk := append(le.AppendUint32([]byte("fmt "), uint32(size)), fmtBody...)
	if len(fmtBody)%2 == 1 {
		fmtChunk = append(fmtChunk, 0)
	}
	var data []byte
	for _, v := range s.samples {
		data = le.AppendUint16(data, uint16(v))
	}
	dsize := s.dataSize
	if dsize == -1 {
		dsize = int64(len(data))
	}
	dataChunk := append(le.AppendUint32([]byte("data"), uint32(dsize)), data...)
	out := []byte(s.magic)
	if s.dataFirst {
		out = append(out, dataChunk...)
	}
	if !s.noFmt {
		out = append(out, fmtChunk...)
	}
	out = append(out, s.before...)
	if !s.dataFirst {
		out = append(out, dataChunk...)
	}
	out = append(out, s.after...)
	if s.truncateTo > 0 && s.truncateTo < len(out) {
		out = out[:s.truncateTo]
	}
	return out
}

func ramp(n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(i*7 - 5000)
	}
	return out
}

// readAll reads frames until EOF (bounded, so a reader that never ends fails).
func readAll(t testing.TB, src Source, maxFrames int) ([]int16, error) {
	var out []int16
	buf := make([]int16, FrameSamples)
	for range maxFrames {
		err := src.ReadFrame(buf)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, buf...)
	}
	return out, errors.New("source did not end")
}

var extensiblePCM = append(append([]byte{22, 0, 16, 0, 4, 0, 0, 0}, 1, 0), make([]byte, 14)...)
var extensibleFloat = append(append([]byte{22, 0, 32, 0, 4, 0, 0, 0}, 3, 0), make([]byte, 14)...)

var wavCases = []struct {
	name    string
	spec    wavSpec
	err     error // nil: must open
	samples int   // expected output samples before padding (when err is nil)
}{
	{"mono 48k", wavSpec{samples: ramp(2000), dataSize: -1}, nil, 2000},
	{"stereo 48k", wavSpec{channels: 2, samples: ramp(4000), dataSize: -1}, nil, 2000},
	{"44.1k resampled", wavSpec{rate: 44100, samples: ramp(4410), dataSize: -1}, nil, 4800},
	{"8k resampled", wavSpec{rate: 8000, samples: ramp(800), dataSize: -1}, nil, 4800},
	{"extensible PCM", wavSpec{tag: 0xFFFE, fmtExtra: extensiblePCM, samples: ramp(960), dataSize: -1}, nil, 960},
	{"LIST chunk skipped", wavSpec{before: []byte("LIST\x03\x00\x00\x00abc\x00"), samples: ramp(960), dataSize: -1}, nil, 960},
	{"unknown length reads to EOF", wavSpec{samples: ramp(1500), dataSize: 0}, nil, 1500},
	{"streaming length reads to EOF", wavSpec{samples: ramp(1500), dataSize: 0xFFFFFFFF}, nil, 1500},
	{"data size bounds trailing chunk", wavSpec{samples: ramp(1000), dataSize: 2000, after: []byte("LIST\x04\x00\x00\x00abcd")}, nil, 1000},
	{"truncated data ends early", wavSpec{samples: ramp(1000), dataSize: 100000}, nil, 1000},
	{"odd trailing byte ignored", wavSpec{samples: ramp(10), dataSize: 0, after: []byte{1}}, nil, 10},
	{"empty data", wavSpec{dataSize: -1}, nil, 0},
	{"float tag", wavSpec{tag: 3, bits: 32, align: 4}, ErrWAVFormat, 0},
	{"extensible float", wavSpec{tag: 0xFFFE, fmtExtra: extensibleFloat}, ErrWAVFormat, 0},
	{"extensible too short", wavSpec{tag: 0xFFFE, fmtExtra: []byte{0, 0}}, ErrWAVFormat, 0},
	{"8-bit", wavSpec{bits: 8, align: 1}, ErrWAVFormat, 0},
	{"24-bit", wavSpec{bits: 24, align: 3}, ErrWAVFormat, 0},
	{"three channels", wavSpec{channels: 3}, ErrWAVFormat, 0},
	{"bad block align", wavSpec{align: 4}, ErrWAVFormat, 0},
	{"rate too high", wavSpec{rate: 0xFFFFFFFF}, ErrWAVFormat, 0},
	{"rate too low", wavSpec{rate: 500}, ErrWAVFormat, 0},
	{"not RIFF", wavSpec{magic: "RIFXxxxxWAVE"}, ErrNotWAV, 0},
	{"not WAVE", wavSpec{magic: "RIFFxxxxAVI "}, ErrNotWAV, 0},
	{"short file", wavSpec{truncateTo: 6}, ErrNotWAV, 0},
	{"no fmt chunk", wavSpec{noFmt: true}, ErrNotWAV, 0},
	{"data before fmt", wavSpec{dataFirst: true}, ErrNotWAV, 0},
	{"fmt too small", wavSpec{fmtSize: 12}, ErrNotWAV, 0},
	{"fmt huge", wavSpec{fmtSize: 1 << 20}, ErrNotWAV, 0},
	{"truncated fmt", wavSpec{truncateTo: 30}, ErrNotWAV, 0},
	{"truncated skipped chunk", wavSpec{before: []byte("JUNK\xff\x00\x00\x00ab")}, ErrNotWAV, 0},
	{"no data chunk", wavSpec{truncateTo: 36}, ErrNotWAV, 0},
}

func TestWAVTable(t *testing.T) {
	for _, tc := range wavCases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWAVSource(bytes.NewReader(tc.spec.build()))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, w, 1000)
			if err != nil {
				t.Fatal(err)
			}
			want := (tc.samples + FrameSamples - 1) / FrameSamples * FrameSamples
			if len(got) != want {
				t.Fatalf("read %d samples, want %d (%d padded to frames)", len(got), want, tc.samples)
			}
			for _, v := range got[tc.samples:] {
				if v != 0 {
					t.Fatal("padding after the last sample is not silence")
				}
			}
		})
	}
}

func TestWAVSamples(t *testing.T) {
	in := ramp(960)
	w, err := NewWAVSource(bytes.NewReader(wavSpec{samples: in, dataSize: -1}.build()))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, w, 10)
	if !equal(got, in) {
		t.Fatal("48 kHz mono not read verbatim")
	}
	if f := w.Format(); f != (WAVFormat{SampleRate: 48000, Channels: 1}) {
		t.Fatalf("format %+v", f)
	}

	// Stereo: the average of the two channels.
	var st []int16
	for i := range 960 {
		st = append(st, int16(i), int16(-3*i+1))
	}
	w, _ = NewWAVSource(bytes.NewReader(wavSpec{channels: 2, samples: st, dataSize: -1}.build()))
	got, _ = readAll(t, w, 10)
	for i := range 960 {
		if want := int16((i + (-3*i + 1)) / 2); got[i] != want {
			t.Fatalf("stereo sample %d: %d, want %d", i, got[i], want)
		}
	}
}

func TestWAVResampleKeepsPitchAndLength(t *testing.T) {
	for _, rate := range []int{8000, 16000, 22050, 44100, 96000} {
		in := make([]int16, rate) // one second
		for i := range in {
			in[i] = int16(10000 * math.Sin(2*math.Pi*1000*float64(i)/float64(rate)))
		}
		w, err := NewWAVSource(bytes.NewReader(wavSpec{rate: uint32(rate), samples: in, dataSize: -1}.build()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, w, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != SampleRate {
			t.Errorf("%d Hz: one second became %d samples", rate, len(got))
		}
		if f := signal.DominantFrequency(got, SampleRate); math.Abs(f-1000) > 2 {
			t.Errorf("%d Hz: 1 kHz tone came out at %.1f Hz", rate, f)
		}
		// Interpolation stays within the input's range and close to the ideal sine.
		var maxErr float64
		for i, v := range got[:len(got)-FrameSamples] {
			ideal := 10000 * math.Sin(2*math.Pi*1000*float64(i)/SampleRate)
			maxErr = max(maxErr, math.Abs(float64(v)-ideal))
		}
		if limit := 10000 * 2 * math.Pi * 1000 / float64(rate) * 0.6; maxErr > limit {
			t.Errorf("%d Hz: interpolation error %.0f, want below %.0f", rate, maxErr, limit)
		}
	}
}

func TestWAVRoundTripAndCrashSafety(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.wav")
	sink, err := CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	tone := NewTone(700, 0.5)
	var sent []int16
	buf := make([]int16, FrameSamples)
	for range 130 { // 2.6 s
		tone.ReadFrame(buf)
		sent = append(sent, buf...)
		if err := sink.WriteFrame(buf); err != nil {
			t.Fatal(err)
		}
	}
	// Not closed yet, as if the process had died: the header covers 2 s.
	src, err := OpenWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, src, 1000)
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2*SampleRate || !equal(got, sent[:len(got)]) {
		t.Fatalf("unclosed file: read %d samples, want the first %d intact", len(got), 2*SampleRate)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sink.WriteFrame(buf); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	src, err = OpenWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got, _ = readAll(t, src, 1000)
	if !equal(got, sent) {
		t.Fatalf("closed file: read %d samples, wrote %d", len(got), len(sent))
	}
	raw, _ := os.ReadFile(path)
	if !bytes.Equal(raw[:44], wavHeader(int64(len(sent)*2))) || len(raw) != 44+len(sent)*2 {
		t.Fatal("final header or size wrong")
	}
}

func TestWAVErrorsNameTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.wav")
	os.WriteFile(path, wavSpec{bits: 24, align: 3}.build(), 0o644)
	_, err := OpenWAV(path)
	if !errors.Is(err, ErrWAVFormat) || !bytes.Contains([]byte(err.Error()), []byte("bad.wav")) {
		t.Fatalf("error %v should wrap ErrWAVFormat and name the file", err)
	}
	if _, err := OpenWAV(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := CreateWAV(filepath.Join(t.TempDir(), "no", "dir.wav")); err == nil {
		t.Fatal("created a WAV in a missing directory")
	}
}

func FuzzWAV(f *testing.F) {
	for _, tc := range wavCases {
		f.Add(tc.spec.build())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := NewWAVSource(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrNotWAV) && !errors.Is(err, ErrWAVFormat) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		// Every input sample makes at most 48000/minWAVRate output samples.
		maxFrames := len(data)/2*(SampleRate/minWAVRate)/FrameSamples + 2
		if _, err := readAll(t, w, maxFrames); err != nil {
			t.Fatal(err)
		}
	})
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
