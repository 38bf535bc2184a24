// Package audio is Parley's audio device edge: everything that produces or consumes
// raw PCM for a voice call, behind two small interfaces so that calls run the same way
// against a sound card, a WAV file, a synthetic tone or nothing at all.
//
// # Frames
//
// All audio here is 48 kHz, mono, signed 16-bit PCM, moved in frames of 20 ms
// (FrameSamples = 960 samples). That is the Opus frame the voice pipeline encodes, so
// no layer between the device and the codec has to re-block audio.
//
// A Source fills one frame per ReadFrame. Some sources are paced by their nature (a
// capture device delivers 20 ms of audio every 20 ms); the synthetic and file sources
// are not, and return frames as fast as they are asked for. Paced wraps an unpaced
// source so it yields one frame per FrameDuration of a Clock, which tests replace by a
// clock they tick themselves.
//
// A Sink takes one frame per WriteFrame and must never hold the caller for long: the
// playout loop that feeds it is timed by the jitter buffer, not by the sink. The
// playback device therefore keeps only a short queue, drops the oldest audio when the
// queue overflows, and plays silence when it runs dry.
//
// # Devices
//
// Sound cards are reached through miniaudio (github.com/gen2brain/malgo, cgo, which
// loads the system's audio library at run time). No backend is touched until
// ListDevices, OpenCaptureDevice or OpenPlaybackDevice is called, each device owns
// its own backend context, and miniaudio's null backend is left out, so a machine
// without sound gets an error wrapping ErrNoDevice rather than a device that
// silently discards the call. The backend converts to 48 kHz mono 16-bit whatever
// the hardware does natively.
//
// # WAV files
//
// The WAV reader accepts a RIFF/WAVE file (all fields little-endian):
//
//	off  len  field
//	0    4    "RIFF"
//	4    4    RIFF size (ignored: writers that crashed leave it wrong)
//	8    4    "WAVE"
//	12   ...  chunks: [4-byte ID][u32 size][size bytes][pad byte if size is odd]
//
// Chunks other than "fmt " and "data" (LIST, fact, cue, ...) are skipped. The "fmt "
// chunk must come before "data" and hold 16 to 4096 bytes:
//
//	off  len  field
//	0    2    format tag: 1 (PCM), or 0xFFFE (extensible) whose sub-format GUID
//	          (at offset 24 of the chunk) starts with 0x0001, i.e. PCM
//	2    2    channels: 1 or 2 (stereo is down-mixed by averaging)
//	4    4    sample rate: 1000 to 384000 Hz (other than 48000 is resampled by
//	          linear interpolation)
//	8    4    byte rate (ignored)
//	12   2    block align: must equal channels*2
//	14   2    bits per sample: 16
//
// The "data" chunk's size bounds the samples read; a size of 0 or 0xFFFFFFFF (what a
// streaming writer leaves before it knows the length) means "until end of file". A
// file shorter than its data size ends early without error, and a trailing partial
// sample is ignored. The writer produces the canonical 44-byte header (PCM, mono,
// 48 kHz, 16-bit) followed by the samples, and rewrites the header once a second of
// audio, so a process that dies mid-call leaves a file that plays up to the last
// second (or, before the first rewrite, whatever reached the disk, as the initial
// data size of 0 reads as "until end of file").
//
// A WAV file is finite: OpenWAV's source returns io.EOF at its end. ParseSource wraps
// it in SilenceAfterEOF, so a call fed from a file goes on, silent, after the file
// ends; it does not loop.
package audio
