package app

import (
	"log/slog"

	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// soundCore is optional: a core that plays the ring, the ringback and the
// message chime through the call audio output. Without it the window is
// silent and the settings have no Sounds rows.
type soundCore interface {
	PlaySound(name string) error
	StopSound(name string)
	SoundOn(name string) bool
	SetSoundOn(name string, on bool) error
}

var _ soundCore = (*node.Node)(nil)

// soundState is the window's side of the sounds: which call sound it asked
// for, and the one goroutine that asks the core, in order (a stop overtaken
// by the play it followed would leave a ring on).
type soundState struct {
	playing string // node.SoundRing, node.SoundRingback or ""
	queue   chan func()
}

// soundQueue is deep enough for any burst of call states and messages; when
// it is full a request is dropped (and logged), as a sound is not worth
// holding the window up for.
const soundQueue = 32

func (u *ui) soundCore() soundCore {
	sc, _ := u.core.(soundCore)
	return sc
}

// soundDo runs f off the UI goroutine, after the requests before it.
func (u *ui) soundDo(f func()) {
	s := &u.snd
	if s.queue == nil {
		s.queue = make(chan func(), soundQueue)
		ctx, q := u.ctx, s.queue
		go func() {
			for {
				select {
				case f := <-q:
					f()
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	select {
	case s.queue <- f:
	default:
		slog.Warn("sounds: request dropped, the core is not keeping up")
	}
}

// wantedCallSound is what the call calls for: the ring while an incoming call
// waits for the user (not once Answer or Decline is on its way), the ringback
// while the other side of our call rings.
func (u *ui) wantedCallSound() string {
	s := u.call
	switch {
	case s == nil || s.answering:
		return ""
	case !s.outgoing && s.state == callIncoming:
		return node.SoundRing
	case s.outgoing && s.state == callRinging:
		return node.SoundRingback
	}
	return ""
}

// syncCallSound starts and stops the ring and the ringback as the call moves.
func (u *ui) syncCallSound() {
	defer u.syncAlarm() // urgent.go: an urgent call rings with the alarm too
	sc := u.soundCore()
	want := u.wantedCallSound()
	if sc == nil || want == u.snd.playing {
		return
	}
	old := u.snd.playing
	u.snd.playing = want
	u.soundDo(func() {
		if old != "" {
			sc.StopSound(old)
		}
		if want != "" {
			sc.PlaySound(want)
		}
	})
}

// messageSound chimes for a message that came while the window is in the
// background (the caller checks focus: the chime goes with the notification).
func (u *ui) messageSound() {
	if sc := u.soundCore(); sc != nil {
		u.soundDo(func() { sc.PlaySound(node.SoundMessage) })
	}
}

// soundSettings are the settings dialog's three checks, one per sound, read
// from the core in the background (they are database reads) and saved with
// the dialog.
type soundSettings struct {
	u      *ui
	core   soundCore
	checks map[string]*widget.Check
	was    map[string]bool
	loaded bool
}

// soundLabels names each sound for the checks, in the order they show.
var soundLabels = []struct{ name, label string }{
	{node.SoundRing, "Ring for incoming calls"},
	{node.SoundRingback, "Ringback while my call rings"},
	{node.SoundMessage, "Chime for new messages when Parley is in the background"},
}

func newSoundSettings(u *ui) *soundSettings {
	sc := u.soundCore()
	if sc == nil {
		return nil
	}
	s := &soundSettings{u: u, core: sc, checks: map[string]*widget.Check{}, was: map[string]bool{}}
	for _, l := range soundLabels {
		c := widget.NewCheck(l.label, nil)
		c.Disable()
		s.checks[l.name] = c
	}
	background(u, func() (map[string]bool, error) {
		on := map[string]bool{}
		for _, l := range soundLabels {
			on[l.name] = sc.SoundOn(l.name)
		}
		return on, nil
	}, func(on map[string]bool, _ error) {
		s.was, s.loaded = on, true
		for name, c := range s.checks {
			c.SetChecked(on[name])
			c.Enable()
		}
	})
	return s
}

func (s *soundSettings) items() []*widget.FormItem {
	var out []*widget.FormItem
	for i, l := range soundLabels {
		label := ""
		if i == 0 {
			label = "Sounds"
		}
		out = append(out, widget.NewFormItem(label, s.checks[l.name]))
	}
	out[len(out)-1].HintText = "Played through the call audio output."
	return out
}

// save stores the changed choices in the background; silencing a sound that
// plays stops it.
func (s *soundSettings) save() {
	if !s.loaded {
		return
	}
	for _, l := range soundLabels {
		name, on := l.name, s.checks[l.name].Checked
		if on == s.was[name] {
			continue
		}
		background(s.u, func() (struct{}, error) { return struct{}{}, s.core.SetSoundOn(name, on) },
			func(_ struct{}, err error) {
				if err != nil {
					s.u.showError("Changing the sound setting", err)
				}
			})
	}
}
