package app

import (
	"slices"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// soundFake is the call fake that also plays sounds: it records "play|name"
// and "stop|name", and keeps which sounds are silenced.
type soundFake struct {
	*callFake
	smu    sync.Mutex
	played []string
	off    map[string]bool
}

func (s *soundFake) PlaySound(name string) error {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.played = append(s.played, "play|"+name)
	return nil
}

func (s *soundFake) StopSound(name string) {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.played = append(s.played, "stop|"+name)
}

func (s *soundFake) SoundOn(name string) bool {
	s.smu.Lock()
	defer s.smu.Unlock()
	return !s.off[name]
}

func (s *soundFake) SetSoundOn(name string, on bool) error {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.off[name] = !on
	s.played = append(s.played, "set|"+name+"|"+map[bool]string{true: "on", false: "off"}[on])
	return nil
}

func (s *soundFake) sounds() []string {
	s.smu.Lock()
	defer s.smu.Unlock()
	return slices.Clone(s.played)
}

func soundHarness(t *testing.T) (*harness, *soundFake) {
	t.Helper()
	test.NewTempApp(t)
	sf := &soundFake{callFake: newCallFake(fivePeers()), off: map[string]bool{}}
	return newHarnessFor(t, sf), sf
}

func (h *harness) waitSounds(sf *soundFake, want ...string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(sf.sounds(), want) {
		if time.Now().After(deadline) {
			h.t.Fatalf("sounds %q, want %q", sf.sounds(), want)
		}
		h.pump()
		time.Sleep(5 * time.Millisecond)
	}
}

// An incoming call rings until the click on Answer; our call plays the
// ringback while the other side rings and stops when it is answered.
func TestCallSounds(t *testing.T) {
	h, sf := soundHarness(t)
	h.emit(node.CallIncoming{Call: "in-1", From: aliceID, Name: "alice"})
	h.waitSounds(sf, "play|ring")
	test.Tap(h.button("Answer"))
	h.waitSounds(sf, "play|ring", "stop|ring")
	h.emit(node.CallState{Call: "in-1", Peer: aliceID, State: callActive})
	h.emit(node.CallState{Call: "in-1", Peer: aliceID, State: callEnded, Reason: "hangup"})

	h.u.placeCall([]string{bobID})
	h.waitOps(sf.callFake, "answer|in-1", "call|"+bobID)
	// The call's ID arrives when Call returns, after the op is recorded.
	h.waitFor("the call's ID", func() bool { return h.u.call != nil && h.u.call.id != "" })
	id := h.u.call.id
	h.emit(node.CallState{Call: id, Peer: bobID, State: callRinging, Outgoing: true})
	// The ringback has started before the answer comes.
	h.waitSounds(sf, "play|ring", "stop|ring", "play|ringback")
	h.emit(node.CallState{Call: id, Peer: bobID, State: callConnecting, Outgoing: true})
	h.waitSounds(sf, "play|ring", "stop|ring", "play|ringback", "stop|ringback")

	h.emit(node.CallState{Call: id, Peer: bobID, State: callEnded, Reason: "hangup", Outgoing: true})

	// A caller who gives up stops the ring too.
	h.emit(node.CallIncoming{Call: "in-2", From: eveID, Name: "Eve"})
	h.emit(node.CallState{Call: "in-2", Peer: eveID, State: callEnded, Reason: "cancelled"})
	h.waitSounds(sf, "play|ring", "stop|ring", "play|ringback", "stop|ringback", "play|ring", "stop|ring")
}

// A message chimes only when the window is in the background.
func TestMessageSoundOnlyUnfocused(t *testing.T) {
	h, sf := soundHarness(t)
	h.emit(node.MessageReceived{ID: "m1", From: aliceID, Text: "seen"})
	h.u.setFocused(false)
	h.emit(node.MessageReceived{ID: "m2", From: aliceID, Text: "away?"})
	h.waitSounds(sf, "play|message")
}

// Settings: one check per sound, read from the core, saved with the dialog.
func TestSoundSettings(t *testing.T) {
	h, sf := soundHarness(t)
	sf.off[node.SoundRingback] = true
	h.u.showSettings()
	check := func(label string) *widget.Check {
		var found *widget.Check
		h.everything(func(o fyne.CanvasObject) {
			if c, ok := o.(*widget.Check); ok && c.Text == label {
				found = c
			}
		})
		return found
	}
	h.waitFor("the sound checks", func() bool {
		c := check("Ring for incoming calls")
		return c != nil && !c.Disabled()
	})
	ring, back, chime := check("Ring for incoming calls"), check("Ringback while my call rings"),
		check("Chime for new messages when Parley is in the background")
	if !ring.Checked || back.Checked || !chime.Checked {
		t.Fatalf("checks ring %v ringback %v chime %v", ring.Checked, back.Checked, chime.Checked)
	}
	ring.SetChecked(false)
	back.SetChecked(true)
	test.Tap(h.button("Save"))
	h.waitFor("both saved", func() bool { return len(sf.sounds()) == 2 })
	got := sf.sounds()
	slices.Sort(got)
	if !slices.Equal(got, []string{"set|ringback|on", "set|ring|off"}) {
		t.Errorf("saved %q", got)
	}
}

// A core without sounds: no checks, and calls ring silently.
func TestNoSoundsWithoutTheCore(t *testing.T) {
	h, _ := callHarness(t, fivePeers())
	if newSoundSettings(h.u) != nil {
		t.Fatal("sound settings for a core without sounds")
	}
	h.emit(node.CallIncoming{Call: "in-1", From: aliceID, Name: "alice"})
	if h.u.snd.playing != "" || h.u.snd.queue != nil {
		t.Error("a core without sounds was asked to play")
	}
}
