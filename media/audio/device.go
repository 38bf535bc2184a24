package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gen2brain/malgo"
)

// Device plumbing through miniaudio (malgo). Nothing here runs until a device is asked
// for: importing the package touches no audio backend, so headless nodes and CI
// machines without a sound card never notice it.

// ErrNoDevice is wrapped by every error that means "no usable audio device here":
// no backend could start, or no device has the requested name.
var ErrNoDevice = errors.New("audio: no audio device")

const (
	// periodMillis is how often miniaudio calls back; 10 ms keeps device latency
	// below one codec frame.
	periodMillis = 10
	// captureQueue bounds audio captured but not yet read: 200 ms, after which the
	// oldest is dropped (the reader has fallen behind and stale speech is useless).
	captureQueue = 10 * FrameSamples
	// playbackQueue bounds audio written but not yet played: 60 ms, so a playout clock
	// that runs slightly fast against the sound card costs a rare short glitch, not a
	// latency that grows through the call.
	playbackQueue = 3 * FrameSamples
	// captureStall is how long ReadFrame waits for a capture device that delivers
	// nothing before it reports an error instead of hanging the sender.
	captureStall = 2 * time.Second
)

// backends lists every miniaudio backend except the null one, which would otherwise
// "succeed" on a machine without sound and silently swallow a call's audio.
var backends = []malgo.Backend{
	malgo.BackendWasapi, malgo.BackendDsound, malgo.BackendWinmm, malgo.BackendCoreaudio,
	malgo.BackendSndio, malgo.BackendAudio4, malgo.BackendOss, malgo.BackendPulseaudio,
	malgo.BackendAlsa, malgo.BackendJack, malgo.BackendAaudio, malgo.BackendOpensl,
	malgo.BackendWebaudio,
}

// DeviceInfo describes one audio device.
type DeviceInfo struct {
	Name     string
	Capture  bool // a microphone or line-in
	Playback bool
	Default  bool
}

// ListDevices returns the capture devices, then the playback devices, of the first
// audio backend that starts.
func ListDevices() ([]DeviceInfo, error) {
	ctx, err := openContext()
	if err != nil {
		return nil, err
	}
	defer closeContext(ctx)
	var out []DeviceInfo
	for _, kind := range []malgo.DeviceType{malgo.Capture, malgo.Playback} {
		infos, err := ctx.Devices(kind)
		if err != nil {
			return nil, fmt.Errorf("%w: list devices: %v", ErrNoDevice, err)
		}
		for _, in := range infos {
			out = append(out, DeviceInfo{
				Name:     in.Name(),
				Capture:  kind == malgo.Capture,
				Playback: kind == malgo.Playback,
				Default:  in.IsDefault != 0,
			})
		}
	}
	return out, nil
}

func openContext() (*malgo.AllocatedContext, error) {
	ctx, err := malgo.InitContext(backends, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: no audio backend available: %v", ErrNoDevice, err)
	}
	return ctx, nil
}

func closeContext(ctx *malgo.AllocatedContext) {
	_ = ctx.Uninit()
	ctx.Free()
}

// findDevice resolves a device name: "" is the system default (nil ID); otherwise an
// exact name, or failing that the only device whose name contains name ignoring case.
func findDevice(ctx *malgo.AllocatedContext, kind malgo.DeviceType, name string) (*malgo.DeviceID, error) {
	if name == "" {
		return nil, nil
	}
	infos, err := ctx.Devices(kind)
	if err != nil {
		return nil, fmt.Errorf("%w: list devices: %v", ErrNoDevice, err)
	}
	var names []string
	var partial []int
	for i := range infos {
		n := infos[i].Name()
		if n == name {
			return &infos[i].ID, nil
		}
		names = append(names, n)
		if strings.Contains(strings.ToLower(n), strings.ToLower(name)) {
			partial = append(partial, i)
		}
	}
	if len(partial) == 1 {
		return &infos[partial[0]].ID, nil
	}
	return nil, fmt.Errorf("%w: no single device named %q among %q", ErrNoDevice, name, names)
}

// device is what capture and playback share: a context, a started device, and the
// queue the callback and the Go side exchange samples through.
type device struct {
	ctx    *malgo.AllocatedContext
	dev    *malgo.Device
	pin    runtime.Pinner // keeps the device ID still while C holds a pointer to it
	mu     sync.Mutex
	q      *ring
	closed bool
	failed error // set by the stop callback when the backend stops the device
	wake   chan struct{}
	frames []int16 // callback scratch, reused
}

func openDevice(kind malgo.DeviceType, name string, queue int, data malgo.DataProc) (*device, error) {
	ctx, err := openContext()
	if err != nil {
		return nil, err
	}
	d := &device{ctx: ctx, q: newRing(queue), wake: make(chan struct{}, 1)}
	id, err := findDevice(ctx, kind, name)
	if err != nil {
		closeContext(ctx)
		return nil, err
	}
	cfg := malgo.DefaultDeviceConfig(kind)
	cfg.SampleRate = SampleRate
	cfg.PeriodSizeInMilliseconds = periodMillis
	cfg.Alsa.NoMMap = 1
	sub := &cfg.Capture
	if kind == malgo.Playback {
		sub = &cfg.Playback
	}
	sub.Format = malgo.FormatS16
	sub.Channels = Channels
	if id != nil {
		d.pin.Pin(id)
		sub.DeviceID = id.Pointer()
	}
	dev, err := malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{Data: data, Stop: d.onStop})
	if err != nil {
		d.pin.Unpin()
		closeContext(ctx)
		return nil, fmt.Errorf("%w: open %q: %v", ErrNoDevice, name, err)
	}
	d.dev = dev
	return d, nil
}

func (d *device) start() error {
	if err := d.dev.Start(); err != nil {
		d.release()
		return fmt.Errorf("%w: start device: %v", ErrNoDevice, err)
	}
	return nil
}

func (d *device) onStop() {
	d.mu.Lock()
	if !d.closed && d.failed == nil {
		d.failed = errors.New("audio: device stopped by the audio system")
	}
	d.mu.Unlock()
	d.signal()
}

func (d *device) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *device) release() {
	d.dev.Uninit()
	d.pin.Unpin()
	closeContext(d.ctx)
}

// Close stops the device and frees the backend.
func (d *device) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	d.signal()
	// Uninit waits for the callback thread, so no callback runs after this.
	d.release()
	return nil
}

// scratch returns a reusable sample buffer of n samples for the callback.
func (d *device) scratch(n int) []int16 {
	if cap(d.frames) < n {
		d.frames = make([]int16, n)
	}
	return d.frames[:n]
}

// CaptureDevice is a microphone as a Source. It is paced by the sound card.
type CaptureDevice struct{ *device }

// OpenCaptureDevice opens and starts the capture device called name ("" for the
// system default), asking the backend for 48 kHz mono 16-bit (it converts if the
// hardware differs). Errors wrap ErrNoDevice when there is no backend or device.
func OpenCaptureDevice(name string) (*CaptureDevice, error) {
	c := &CaptureDevice{}
	d, err := openDevice(malgo.Capture, name, captureQueue, c.onData)
	if err != nil {
		return nil, err
	}
	c.device = d
	if err := d.start(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *CaptureDevice) onData(_, in []byte, frames uint32) {
	s := c.scratch(len(in) / 2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(in[2*i:]))
	}
	c.mu.Lock()
	c.q.write(s)
	c.mu.Unlock()
	c.signal()
}

// ReadFrame blocks until a frame has been captured. It fails if the device stops or
// delivers nothing for two seconds, so a dead microphone ends the sender with a
// reason instead of hanging it.
func (c *CaptureDevice) ReadFrame(dst []int16) error {
	if err := checkFrame(dst); err != nil {
		return err
	}
	timer := time.NewTimer(captureStall)
	defer timer.Stop()
	for {
		c.mu.Lock()
		switch {
		case c.closed:
			c.mu.Unlock()
			return ErrClosed
		case c.q.len() >= len(dst):
			c.q.read(dst)
			c.mu.Unlock()
			return nil
		case c.failed != nil:
			err := c.failed
			c.mu.Unlock()
			return err
		}
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-timer.C:
			return fmt.Errorf("audio: capture device delivered no audio for %v", captureStall)
		}
	}
}

// Overruns is the number of captured samples dropped because nobody read them.
func (c *CaptureDevice) Overruns() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.q.dropped
}

// PlaybackDevice is a loudspeaker as a Sink.
type PlaybackDevice struct {
	*device
	underruns uint64
}

// OpenPlaybackDevice opens and starts the playback device called name ("" for the
// system default). Until the first WriteFrame, and whenever the queue runs dry, it
// plays silence.
func OpenPlaybackDevice(name string) (*PlaybackDevice, error) {
	p := &PlaybackDevice{}
	d, err := openDevice(malgo.Playback, name, playbackQueue, p.onData)
	if err != nil {
		return nil, err
	}
	p.device = d
	if err := d.start(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *PlaybackDevice) onData(out, _ []byte, frames uint32) {
	s := p.scratch(len(out) / 2)
	p.mu.Lock()
	n := p.q.read(s)
	if n < len(s) {
		p.underruns += uint64(len(s) - n)
	}
	p.mu.Unlock()
	clear(s[n:])
	for i, v := range s {
		binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
	}
}

// WriteFrame queues src for playback without waiting.
func (p *PlaybackDevice) WriteFrame(src []int16) error {
	if err := checkFrame(src); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.failed != nil {
		return p.failed
	}
	p.q.write(src)
	return nil
}

// Underruns is the number of samples of silence played because the queue was empty;
// Dropped is the number of queued samples discarded because it was full.
func (p *PlaybackDevice) Underruns() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.underruns
}

// Dropped reports samples discarded because the playback queue was full.
func (p *PlaybackDevice) Dropped() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.q.dropped
}
