package audio

import (
	"fmt"
	"strconv"
	"strings"
)

// toneAmplitude is loud enough to hear and to measure, with headroom for the codec.
const toneAmplitude = 0.25

// ParseSource opens the source a command-line flag names:
//
//	null          silence
//	tone:HZ       a sine of HZ Hz (e.g. tone:440)
//	PATH.wav      a WAV file, then silence once it ends, so a call outlives its file
//	device        the default capture device
//	device:NAME   the capture device called NAME (or the one whose name contains it)
//
// Everything but the device is paced to real time by SystemClock.
func ParseSource(spec string) (Source, error) {
	kind, arg, hasArg := strings.Cut(spec, ":")
	switch {
	case spec == "null":
		return Paced(NewNull(), nil), nil
	case kind == "tone" && hasArg:
		hz, err := strconv.ParseFloat(arg, 64)
		if err != nil || hz <= 0 || hz >= SampleRate/2 {
			return nil, fmt.Errorf("audio: source %q: tone frequency must be between 0 and %d Hz", spec, SampleRate/2)
		}
		return Paced(NewTone(hz, toneAmplitude), nil), nil
	case isWAVPath(spec):
		w, err := OpenWAV(spec)
		if err != nil {
			return nil, fmt.Errorf("audio: source: %w", err)
		}
		return Paced(&SilenceAfterEOF{Source: w}, nil), nil
	case kind == "device":
		src, err := OpenCaptureDevice(arg)
		if err != nil {
			return nil, fmt.Errorf("audio: source %q: %w", spec, err)
		}
		return src, nil
	}
	return nil, fmt.Errorf("audio: unknown source %q (want null, tone:HZ, FILE.wav, device or device:NAME)", spec)
}

// ParseSink opens the sink a command-line flag names:
//
//	null          discard
//	PATH.wav      record to a WAV file (created or truncated)
//	device        the default playback device
//	device:NAME   the playback device called NAME (or the one whose name contains it)
func ParseSink(spec string) (Sink, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch {
	case spec == "null":
		return NewNull(), nil
	case isWAVPath(spec):
		w, err := CreateWAV(spec)
		if err != nil {
			return nil, fmt.Errorf("audio: sink: %w", err)
		}
		return w, nil
	case kind == "device":
		sink, err := OpenPlaybackDevice(arg)
		if err != nil {
			return nil, fmt.Errorf("audio: sink %q: %w", spec, err)
		}
		return sink, nil
	}
	return nil, fmt.Errorf("audio: unknown sink %q (want null, FILE.wav, device or device:NAME)", spec)
}

func isWAVPath(spec string) bool {
	return len(spec) > len(".wav") && strings.EqualFold(spec[len(spec)-len(".wav"):], ".wav")
}
