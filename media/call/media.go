package call

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v3"

	"parley/identity"
	"parley/media/audio"
	"parley/media/opus"
	"parley/media/rtpopus"
	"parley/media/voice"
)

// callAudio is a call's audio: one loop, paced by the source (the microphone's
// clock), that every 20 ms captures a frame, takes one decoded frame from each
// leg's jitter buffer, plays their sum and sends what each leg should hear.
//
// In a 1:1 or mesh call every leg hears the same thing — this node's voice —
// so it is encoded once and one track is bound to every peer connection. The
// mixer of a larger group sends each leg everyone else's voice instead: the
// sum of all minus that leg's own, encoded per leg.
type callAudio struct {
	c    *call
	src  audio.Source
	sink audio.Sink
	// mixing is whether this node mixes the call. It can change mid-call: a
	// member becomes the mixer when the old one is lost (mixerfailover.go), so
	// the shared encoder and track below always exist and the loop reads the
	// flag once per frame.
	mixing atomic.Bool
	enc    *tunedEncoder               // shared encoder (not mixing)
	track  *webrtc.TrackLocalStaticRTP // shared track (not mixing)
	pk     rtpopus.Packetizer          // for the shared track
	muted  atomic.Bool
	sent   atomic.Uint64
	// fwd is the device while the call forwards its Opus (passthrough.go);
	// passed counts the packets it sent that way.
	fwd    atomic.Pointer[passBox]
	passed atomic.Uint64
	once   sync.Once
	// started is closed when the first leg connects: the loop reads nothing
	// from the source before, so a file or tone source starts at its
	// beginning for the listener instead of into a not-yet-connected track.
	started   chan struct{}
	startOnce sync.Once
	// release ends the call's hold on one P (Config.OneProcInCalls).
	release func()

	lim limiter // scales what this node plays (the loop's own state)

	mu   sync.Mutex
	legs map[identity.PeerID]*legMedia
}

// legMedia is one leg's part of the call's audio.
type legMedia struct {
	recv  *voice.Receiver
	frame []int16 // the leg's latest decoded frame
	// Mixing only: the leg's own track and encoder.
	track *webrtc.TrackLocalStaticRTP
	enc   *tunedEncoder
	pk    rtpopus.Packetizer
	lim   limiter // scales what this leg hears from the mixer
}

// tunedEncoder is an Opus encoder whose FEC follows its listeners' loss
// reports (see fecTuner). Only the audio loop encodes; reports arrive on the
// senders' RTCP readers.
type tunedEncoder struct {
	enc     *opus.Encoder
	fec     *fecTuner
	applied int // expected loss the encoder is set to now
}

func newEncoder() (*tunedEncoder, error) {
	// FEC starts off (expected loss 0) and is switched on by the first report
	// that shows loss.
	enc, err := opus.NewEncoder(opus.Options{FEC: true, DTX: true})
	if err != nil {
		return nil, err
	}
	return &tunedEncoder{enc: enc, fec: newFECTuner()}, nil
}

// encode retunes FEC if the reports moved it, then encodes one frame.
func (t *tunedEncoder) encode(pcm []int16, out []byte) (int, error) {
	if want := t.fec.expectedLoss(); want != t.applied {
		if err := t.enc.SetExpectedLoss(want); err != nil {
			return 0, err
		}
		t.applied = want
	}
	return t.enc.Encode(pcm, out)
}

func newTrack() (*webrtc.TrackLocalStaticRTP, error) {
	return webrtc.NewTrackLocalStaticRTP(opusCodec, "audio", "parley")
}

// attachMedia adds the call's audio to a leg's peer connection, opening the
// audio devices with the first leg.
func (c *call) attachMedia(l *leg, pc *webrtc.PeerConnection) error {
	a, err := c.ensureAudio()
	if err != nil {
		return err
	}
	lm := &legMedia{frame: make([]int16, audio.FrameSamples)}
	if lm.recv, err = voice.NewReceiver(frameSink(lm.frame), voice.ReceiverConfig{}); err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	track, enc := a.track, a.enc
	if a.mixing.Load() {
		if lm.enc, err = newEncoder(); err != nil {
			return fmt.Errorf("opus encoder: %w", err)
		}
		if lm.track, err = newTrack(); err != nil {
			return fmt.Errorf("audio track: %w", err)
		}
		lm.pk, track, enc = rtpopus.New(), lm.track, lm.enc
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		return fmt.Errorf("add track: %w", err)
	}
	// RTCP for our sender (receiver reports, NACKs) must be read, or the
	// interceptors behind it stall. The far end's reports of our stream's
	// loss tune the encoder's FEC.
	var ssrc uint32
	if enc := sender.GetParameters().Encodings; len(enc) > 0 {
		ssrc = uint32(enc[0].SSRC)
	}
	peer := l.peer
	c.m.spawn(func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			if lost, ok := fractionLostFor(pkts, ssrc); ok {
				enc.fec.report(peer, lost)
			}
		}
	})
	l.mu.Lock()
	l.media = lm
	l.mu.Unlock()
	a.mu.Lock()
	a.legs[l.peer] = lm
	a.mu.Unlock()
	return nil
}

// detachMedia stops mixing a leg that ended.
func (c *call) detachMedia(l *leg) {
	c.mu.Lock()
	a := c.audio
	c.mu.Unlock()
	if a == nil {
		return
	}
	a.mu.Lock()
	delete(a.legs, l.peer)
	a.mu.Unlock()
	if a.enc != nil {
		a.enc.fec.forget(l.peer)
	}
}

// ensureAudio opens the call's audio and starts its loop, once.
func (c *call) ensureAudio() (*callAudio, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.audio != nil {
		return c.audio, nil
	}
	if c.ended {
		return nil, errors.New("call ended during set-up")
	}
	src, sink, err := c.m.cfg.OpenAudio()
	if err != nil {
		return nil, fmt.Errorf("open audio: %w", err)
	}
	a := &callAudio{c: c, src: src, sink: sink, legs: map[identity.PeerID]*legMedia{}, started: make(chan struct{})}
	a.mixing.Store(c.mixer == c.m.cfg.Self)
	if a.enc, err = newEncoder(); err == nil {
		a.track, err = newTrack()
	}
	if err != nil {
		src.Close()
		sink.Close()
		return nil, fmt.Errorf("audio encoder: %w", err)
	}
	a.pk = rtpopus.New()
	a.muted.Store(c.muted)
	a.release = func() {}
	if c.m.cfg.OneProcInCalls {
		a.release = holdOneProc()
	}
	c.audio = a
	c.m.spawn(func() {
		if err := a.run(); err != nil && c.ctx.Err() == nil {
			c.m.cfg.Log.Warn("call audio stopped", "call", c.id, "err", err)
		}
	})
	c.m.spawn(c.statsLoop)
	return a, nil
}

func (a *callAudio) setMuted(on bool) { a.muted.Store(on) }

// start lets the loop run (the first leg connected).
func (a *callAudio) start() { a.startOnce.Do(func() { close(a.started) }) }

func (a *callAudio) close() {
	a.once.Do(func() {
		a.src.Close()
		a.sink.Close()
		a.release()
	})
}

// run is the call's audio loop (see callAudio).
func (a *callAudio) run() error {
	mic := make([]int16, audio.FrameSamples)
	// The sum is kept wide and clipped only on the way out: a mixer sends each leg
	// the sum minus that leg's own voice, and subtracting from an already clipped
	// sum would leave a trace of the leg's voice in what it hears.
	sum := make([]int32, audio.FrameSamples)
	mix := make([]int16, audio.FrameSamples)
	out := make([]int16, audio.FrameSamples)
	pkt := make([]byte, 1500)
	select {
	case <-a.started:
	case <-a.c.ctx.Done():
		return nil
	}
	defer func() {
		if b := a.fwd.Swap(nil); b != nil {
			b.p.SetPassthrough(false)
		}
	}()
	for a.c.ctx.Err() == nil {
		a.mu.Lock()
		legs := make([]*legMedia, 0, len(a.legs))
		for _, lm := range a.legs {
			legs = append(legs, lm)
		}
		a.mu.Unlock()
		// Decided before the source is read: a device switched to
		// passthrough gives its packets, not a decoded frame.
		pass := a.passthrough(legs)
		if err := a.src.ReadFrame(mic); err != nil {
			return fmt.Errorf("audio source: %w", err)
		}
		if pass != nil {
			// The source paced this frame; its audio comes as packets.
			// The device's sink still gets the frame's time (the
			// source's silence): it sends queued DTMF digits in place of
			// forwarded packets and drops the rest (rtpbridge/opus.go).
			if err := a.sink.WriteFrame(mic); err != nil {
				return fmt.Errorf("audio sink: %w", err)
			}
			if err := a.passFrame(pass, pkt); err != nil {
				return fmt.Errorf("passthrough: %w", err)
			}
			continue
		}
		if a.muted.Load() {
			clear(mic)
		}
		// What this node hears: every leg's frame.
		clear(sum)
		now := a.c.m.cfg.Now()
		for _, lm := range legs {
			lm.recv.PlayFrame(now) // decodes into lm.frame
			accumulate(sum, lm.frame, 1)
		}
		a.lim.apply(mix, sum)
		if err := a.sink.WriteFrame(mix); err != nil {
			return fmt.Errorf("audio sink: %w", err)
		}
		if !a.mixing.Load() {
			n, err := a.enc.encode(mic, pkt)
			if err != nil {
				return fmt.Errorf("encode: %w", err)
			}
			if sent, _ := a.pk.Write(a.track, pkt[:n]); sent {
				a.sent.Add(1)
			}
			continue
		}
		// The mixer: each leg hears everyone but itself.
		accumulate(sum, mic, 1)
		for _, lm := range legs {
			if lm.enc == nil {
				continue // attached before this node took over mixing; being replaced
			}
			mixMinus(out, sum, lm.frame, &lm.lim)
			n, err := lm.enc.encode(out, pkt)
			if err != nil {
				return fmt.Errorf("encode: %w", err)
			}
			lm.pk.Write(lm.track, pkt[:n])
		}
		a.sent.Add(1)
	}
	return nil
}

// frameSink is where a leg's receiver writes its decoded frame for the mix.
type frameSink []int16

func (f frameSink) WriteFrame(src []int16) error { copy(f, src); return nil }
func (f frameSink) Close() error                 { return nil }

// accumulate adds sign×src to the wide sum dst (sign is +1 or -1).
func accumulate(dst []int32, src []int16, sign int32) {
	for i, v := range src {
		dst[i] += sign * int32(v)
	}
}

// mixMinus writes into out the wide sum without own, through the leg's limiter:
// what a leg hears from a mixer. sum is restored before it returns.
func mixMinus(out []int16, sum []int32, own []int16, lim *limiter) {
	accumulate(sum, own, -1)
	lim.apply(out, sum)
	accumulate(sum, own, 1)
}

// clip writes the wide sum src into dst, saturating rather than wrapping.
func clip(dst []int16, src []int32) {
	for i, v := range src {
		dst[i] = int16(max(-32768, min(32767, v)))
	}
}

// receive feeds a leg's remote audio track into its jitter buffer.
func (l *leg) receive(t *webrtc.TrackRemote) {
	l.mu.Lock()
	lm := l.media
	l.mu.Unlock()
	if lm == nil || t.Kind() != webrtc.RTPCodecTypeAudio {
		return
	}
	m := l.c.m
	l.c.mu.Lock()
	a := l.c.audio
	l.c.mu.Unlock()
	m.spawn(func() {
		first := true
		for {
			pkt, _, err := t.ReadRTP()
			if err != nil {
				return
			}
			now := m.cfg.Now()
			if first {
				first = false
				l.mu.Lock()
				l.firstAudio = now
				l.mu.Unlock()
			}
			if a != nil {
				if p := a.forwarding(); p != nil {
					p.WriteOpus(pkt.Payload, pkt.Timestamp) // an error: the device closed with the call
					continue
				}
			}
			lm.recv.Push(pkt.SequenceNumber, pkt.Timestamp, pkt.Payload, now)
		}
	})
}
