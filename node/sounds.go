package node

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"parley/media/audio"
	"parley/media/sounds"
)

// Sounds: a skin asks for the ring of an incoming call, the ringback of an
// outgoing one and the chime of a new message (media/sounds makes them), and
// the node plays them through the call audio output (Audio's out), so a
// recording output (--audio-out FILE.wav) records them too.
//
// While a call has its audio open, sounds are mixed into the call's output
// (the call's playout paces them); otherwise the node opens the output for as
// long as a sound plays and closes it after. A call opening its audio first
// takes the output over: the node's own use of it ends (a device is released,
// a WAV file closed) before the call opens it, and what is left of the sound
// goes on in the call's frames. A WAV output is thus rewritten by each use, as
// calls already rewrote it: it holds the ring until the call is answered,
// then the call.

// Sound names, as PlaySound takes them.
const (
	SoundRing     = sounds.Ring     // an incoming call (loops until stopped)
	SoundRingback = sounds.Ringback // our call rings at the other end (loops)
	SoundMessage  = sounds.Message  // a new message (once)
	SoundAlarm    = sounds.Alarm    // an urgent item or alert (loops; node/urgent.go)
)

// settingSoundPrefix + a sound's name: "off" silences it (SetSoundOn).
const settingSoundPrefix = "sound."

// maxLoop bounds a looping sound that nobody stops (a skin that went away
// between PlaySound and StopSound): longer than any ring (30 s by default,
// Config.RingTimeout), short enough not to ring on all night.
const maxLoop = 2 * time.Minute

// soundPlayer plays the node's sounds. Its zero value is ready.
type soundPlayer struct {
	mu     sync.Mutex
	cache  map[string]sounds.Sound
	voices map[string]*voice
	call   *soundMixSink // the call's output while a call has its audio open
	// opening counts calls opening their audio: no own output meanwhile.
	opening int
	// stop ends the own output's loop (nil when none runs); done is closed
	// once the last loop has closed its output.
	stop, done chan struct{}
}

type voice struct {
	pcm   []int16
	loop  bool
	pos   int
	until time.Time
}

// PlaySound starts a sound (SoundRing, SoundRingback, SoundMessage); one that
// is playing starts again from the beginning. A sound the user silenced
// (SetSoundOn) is not played and is no error. It returns at once.
func (n *Node) PlaySound(name string) error {
	if !slices.Contains(sounds.Names(), name) {
		return fmt.Errorf("unknown sound %q", name)
	}
	if !n.SoundOn(name) {
		return nil
	}
	p := &n.sounds
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cache == nil {
		p.cache, p.voices = map[string]sounds.Sound{}, map[string]*voice{}
	}
	s, ok := p.cache[name]
	if !ok {
		s, _ = sounds.Get(name)
		p.cache[name] = s
	}
	p.voices[name] = &voice{pcm: s.PCM, loop: s.Loop, until: time.Now().Add(maxLoop)}
	n.stats.Add("sounds_played", 1)
	p.startOwnLocked(n)
	return nil
}

// StopSound stops a sound if it is playing.
func (n *Node) StopSound(name string) {
	p := &n.sounds
	p.mu.Lock()
	delete(p.voices, name)
	p.mu.Unlock()
}

// SoundOn says whether a sound is played (all are until silenced).
func (n *Node) SoundOn(name string) bool {
	v, _, _ := n.db.Setting(settingSoundPrefix + name)
	return v != "off"
}

// SetSoundOn silences a sound or lets it play again, and remembers the choice;
// silencing one that is playing stops it.
func (n *Node) SetSoundOn(name string, on bool) error {
	if !slices.Contains(sounds.Names(), name) {
		return fmt.Errorf("unknown sound %q", name)
	}
	v := "on"
	if !on {
		v = "off"
		n.StopSound(name)
	}
	return n.db.SetSetting(settingSoundPrefix+name, v)
}

// startOwnLocked opens the output for the sounds when nothing else carries
// them (no call has its audio open or is opening it) and no loop runs yet.
func (p *soundPlayer) startOwnLocked(n *Node) {
	if p.call != nil || p.opening > 0 || p.stop != nil || len(p.voices) == 0 {
		return
	}
	prev := p.done
	stop, done := make(chan struct{}), make(chan struct{})
	p.stop, p.done = stop, done
	_, out := n.Audio()
	go p.own(n, out, prev, stop, done)
}

// own plays the sounds on an output of their own, paced by a 20 ms ticker,
// until none is left or a call takes the output over.
func (p *soundPlayer) own(n *Node, spec string, prev, stop, done chan struct{}) {
	defer close(done)
	if prev != nil {
		<-prev // the last loop's output is closed: one writer per device or file
	}
	sink, err := audio.ParseSink(spec)
	if err != nil {
		n.log.Warn("sounds: cannot open the audio output", "out", spec, "err", err)
		n.stats.Add("sounds_output_failed", 1)
		p.mu.Lock()
		clear(p.voices)
		if p.stop == stop {
			p.stop = nil
		}
		p.mu.Unlock()
		return
	}
	defer sink.Close()
	tick := time.NewTicker(audio.FrameDuration)
	defer tick.Stop()
	frame := make([]int16, audio.FrameSamples)
	for {
		p.mu.Lock()
		if p.stop != stop { // a call took over
			p.mu.Unlock()
			return
		}
		clear(frame)
		if !p.mixLocked(frame, time.Now()) {
			p.stop = nil
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		if err := sink.WriteFrame(frame); err != nil {
			n.stats.Add("sounds_frames_dropped", 1)
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// mixLocked adds the playing sounds to frame, saturating, and moves them on;
// it reports whether any is still playing.
func (p *soundPlayer) mixLocked(frame []int16, now time.Time) bool {
	for name, v := range p.voices {
		if v.loop && now.After(v.until) {
			delete(p.voices, name)
			continue
		}
		for i := range frame {
			s := int32(frame[i]) + int32(v.pcm[v.pos])
			frame[i] = int16(min(max(s, -32768), 32767))
			v.pos++
			if v.pos == len(v.pcm) {
				if !v.loop {
					delete(p.voices, name)
					break
				}
				v.pos = 0
			}
		}
	}
	return len(p.voices) > 0
}

// openCallAudio is the call manager's OpenAudio: it takes the output over from
// the sounds (waiting until their own use of it has ended), opens the call's
// source and sink (openAudio), and mixes the sounds into that sink.
func (n *Node) openCallAudio() (audio.Source, audio.Sink, error) {
	p := &n.sounds
	p.mu.Lock()
	p.opening++
	stop, done := p.stop, p.done
	p.stop = nil
	p.mu.Unlock()
	if stop != nil {
		close(stop)
	}
	if done != nil {
		<-done
	}
	src, sink, err := n.openAudio()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opening--
	if err != nil {
		p.startOwnLocked(n)
		return nil, nil, err
	}
	m := &soundMixSink{Sink: sink, n: n, buf: make([]int16, audio.FrameSamples)}
	p.call = m
	return src, m, nil
}

// soundMixSink is a call's output with the sounds mixed in.
type soundMixSink struct {
	audio.Sink
	n   *Node
	buf []int16
}

func (m *soundMixSink) WriteFrame(src []int16) error {
	p := &m.n.sounds
	p.mu.Lock()
	if len(p.voices) > 0 && len(src) == len(m.buf) {
		copy(m.buf, src)
		p.mixLocked(m.buf, time.Now())
		src = m.buf
	}
	p.mu.Unlock()
	return m.Sink.WriteFrame(src)
}

// Close ends the call's output; sounds still playing go on through their own.
func (m *soundMixSink) Close() error {
	err := m.Sink.Close()
	p := &m.n.sounds
	p.mu.Lock()
	if p.call == m {
		p.call = nil
		p.startOwnLocked(m.n)
	}
	p.mu.Unlock()
	return err
}

// stopSounds ends every sound and waits until the output is closed (Stop).
func (n *Node) stopSounds() {
	p := &n.sounds
	p.mu.Lock()
	clear(p.voices)
	stop, done := p.stop, p.done
	p.stop = nil
	p.mu.Unlock()
	if stop != nil {
		close(stop)
	}
	if done != nil {
		<-done
	}
}
