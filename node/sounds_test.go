package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/media/audio"
	"parley/media/signal"
)

// soundIdle waits until the node's own sound output is closed.
func soundIdle(t *testing.T, n *Node) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n.sounds.mu.Lock()
		stop, done := n.sounds.stop, n.sounds.done
		n.sounds.mu.Unlock()
		if stop == nil && done != nil {
			<-done
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the sound output stayed open")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFile waits until the sounds' output has created the file at path (it is
// opened off the caller's goroutine).
func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if st, err := os.Stat(path); err == nil && st.Size() >= 44 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
	}
}

// Without a call, a sound opens the output (here a WAV file) for as long as
// it plays; silenced, it does not play; the choice is kept.
func TestSoundsThroughTheOutput(t *testing.T) {
	wav := filepath.Join(t.TempDir(), "out.wav")
	n, err := New(Config{DataDir: t.TempDir(), Name: "s", Listen: "127.0.0.1:0", AudioIn: "null", AudioOut: wav})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	if err := n.PlaySound("siren"); err == nil || !strings.Contains(err.Error(), "unknown sound") {
		t.Fatalf("unknown sound: %v", err)
	}
	if err := n.PlaySound(SoundRing); err != nil {
		t.Fatal(err)
	}
	waitFile(t, wav)
	if r := signal.RMS(recordMore(t, wav, 0, 0, 1)); r < 0.05 {
		t.Fatalf("the ring's first second has RMS %.4f", r)
	}
	n.StopSound(SoundRing)
	soundIdle(t, n)

	// The message chime plays once and closes the output by itself.
	if err := n.PlaySound(SoundMessage); err != nil {
		t.Fatal(err)
	}
	soundIdle(t, n)
	if rec := wavSoFar(t, wav); signal.RMS(rec) < 0.02 || len(rec) > audio.SampleRate {
		t.Fatalf("message chime: %d samples, RMS %.4f", len(rec), signal.RMS(rec))
	}

	if err := n.SetSoundOn(SoundMessage, false); err != nil {
		t.Fatal(err)
	}
	os.Remove(wav)
	if err := n.PlaySound(SoundMessage); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(wav); err == nil {
		t.Fatal("a silenced sound opened the output")
	}
	if n.SoundOn(SoundMessage) || !n.SoundOn(SoundRing) {
		t.Errorf("SoundOn: message %v, ring %v", n.SoundOn(SoundMessage), n.SoundOn(SoundRing))
	}
	if err := n.SetSoundOn("siren", false); err == nil {
		t.Error("silenced an unknown sound")
	}
}

// A looping sound nobody stops ends after maxLoop; mixing saturates.
func TestSoundMix(t *testing.T) {
	var p soundPlayer
	now := time.Now()
	p.voices = map[string]*voice{
		"a": {pcm: []int16{30000, 30000, -30000}, loop: true, until: now.Add(time.Minute)},
		"b": {pcm: []int16{10000}, loop: false},
	}
	frame := make([]int16, 4)
	if !p.mixLocked(frame, now) {
		t.Fatal("the loop ended")
	}
	if want := []int16{32767, 30000, -30000, 30000}; fmt.Sprint(frame) != fmt.Sprint(want) {
		t.Errorf("mixed %v, want %v", frame, want)
	}
	if _, ok := p.voices["b"]; ok {
		t.Error("a one-shot sound stayed after its end")
	}
	if p.mixLocked(frame, now.Add(2*time.Minute)) {
		t.Error("a forgotten loop played past its bound")
	}
}

// An incoming call rings through the output a call uses, before the answer
// (the skin plays the ring when the call comes in); answered while it still
// rings, the ring goes on inside the call's own output, and stops when asked.
func TestRingBeforeAndIntoTheCall(t *testing.T) {
	if !hasNonLoopbackIPv4(t) {
		t.Skip("calls need a non-loopback IPv4 address")
	}
	wav := filepath.Join(t.TempDir(), "b.wav")
	a := mediaTestNode(t, "a", "null", "null")
	b := mediaTestNode(t, "b", "null", wav)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.AddPeer(ctx, fmt.Sprintf("127.0.0.1:%d", b.ov.Port())); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !a.ov.Online(b.ID()); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("b never came online at a")
		}
	}
	id, err := a.Call(b.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	waitCallState(t, b, "incoming")
	if err := b.PlaySound(SoundRing); err != nil {
		t.Fatal(err)
	}
	waitFile(t, wav)
	if r := signal.RMS(recordMore(t, wav, 0, 0, 1)); r < 0.05 {
		t.Fatalf("before the answer the output has RMS %.4f", r)
	}
	if err := b.Answer(id); err != nil {
		t.Fatal(err)
	}
	waitCallState(t, b, "active")
	// The call rewrote the file; a sends silence, so what is heard is the ring.
	if r := signal.RMS(recordMore(t, wav, 0, 0, 2)); r < 0.03 {
		t.Fatalf("in the call, still ringing, the output has RMS %.4f", r)
	}
	b.StopSound(SoundRing)
	from := len(wavSoFar(t, wav)) + audio.SampleRate // the header lags by up to a second
	if r := signal.RMS(recordMore(t, wav, from, 0, 1)); r > 0.005 {
		t.Fatalf("after StopSound the call output has RMS %.4f", r)
	}
}
