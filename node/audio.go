package node

import (
	"fmt"

	"parley/media/audio"
)

// Settings keys of the chosen audio devices (audio.ParseSource/ParseSink specs).
const (
	settingAudioIn  = "audio.in"
	settingAudioOut = "audio.out"
)

// AudioDevice is a sound device a call can use.
type AudioDevice struct {
	Name     string `json:"name"`
	Capture  bool   `json:"capture"`
	Playback bool   `json:"playback"`
	Default  bool   `json:"default"`
}

// AudioDevices lists the machine's sound devices (an error when no audio
// backend is available, e.g. a server without sound).
func (n *Node) AudioDevices() ([]AudioDevice, error) {
	devs, err := audio.ListDevices()
	if err != nil {
		return nil, err
	}
	out := make([]AudioDevice, 0, len(devs))
	for _, d := range devs {
		out = append(out, AudioDevice{Name: d.Name, Capture: d.Capture, Playback: d.Playback, Default: d.Default})
	}
	return out, nil
}

// Audio returns the source and sink specs the next call will use.
func (n *Node) Audio() (in, out string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.audioIn, n.audioOut
}

// SetAudio chooses the source and sink for the next calls ("device",
// "device:NAME", "null", "tone:HZ", FILE.wav) and remembers the choice.
// A command-line --audio-in/--audio-out still wins at the next start.
func (n *Node) SetAudio(in, out string) error {
	if src, err := audio.ParseSource(in); err != nil {
		return fmt.Errorf("audio input: %w", err)
	} else if err := src.Close(); err != nil {
		return fmt.Errorf("audio input: %w", err)
	}
	if err := checkSink(out); err != nil {
		return fmt.Errorf("audio output: %w", err)
	}
	if err := n.db.SetSetting(settingAudioIn, in); err != nil {
		return err
	}
	if err := n.db.SetSetting(settingAudioOut, out); err != nil {
		return err
	}
	n.mu.Lock()
	n.audioIn, n.audioOut = in, out
	n.mu.Unlock()
	return nil
}

// checkSink validates a sink spec without creating a file or opening a device
// for longer than the check.
func checkSink(spec string) error {
	if len(spec) > 4 && spec[len(spec)-4:] == ".wav" {
		return nil // created when a call starts
	}
	sink, err := audio.ParseSink(spec)
	if err != nil {
		return err
	}
	return sink.Close()
}

// loadAudio picks the audio specs: flags first, then the stored choice, then
// the default device.
func (n *Node) loadAudio() {
	in, out := n.cfg.AudioIn, n.cfg.AudioOut
	if in == "" {
		in, _, _ = n.db.Setting(settingAudioIn)
	}
	if out == "" {
		out, _, _ = n.db.Setting(settingAudioOut)
	}
	n.audioIn, n.audioOut = orDefault(in, "device"), orDefault(out, "device")
}

// openAudio opens the current source and sink for a call: the browser's
// while one is connected (node/guestmedia.go), else the chosen devices.
func (n *Node) openAudio() (audio.Source, audio.Sink, error) {
	if src, sink, ok := n.bridgedAudio(); ok {
		return src, sink, nil
	}
	in, out := n.Audio()
	src, err := audio.ParseSource(in)
	if err != nil {
		return nil, nil, err
	}
	sink, err := audio.ParseSink(out)
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return src, sink, nil
}
