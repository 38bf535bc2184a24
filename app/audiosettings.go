package app

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// Audio specs (node.SetAudio) the selectors offer besides the named devices.
const (
	specDefault = "device"
	specNone    = "null"
	defaultName = "System default"
)

// audioSettings is the microphone and speaker choice in the settings dialog.
// The device list is read in the background (a sound server can be slow to
// answer) and a machine without sound says so instead of offering nothing.
type audioSettings struct {
	u       *ui
	in, out *widget.Select
	note    *widget.Label
	inSpec  map[string]string // option → spec
	outSpec map[string]string
	was     [2]string // the specs in use when the dialog opened
	loaded  bool
}

func newAudioSettings(u *ui) *audioSettings {
	a := &audioSettings{u: u, in: widget.NewSelect(nil, nil), out: widget.NewSelect(nil, nil),
		note: widget.NewLabel("")}
	for _, s := range []*widget.Select{a.in, a.out} {
		s.PlaceHolder = "Looking for sound devices…"
		s.Disable()
	}
	a.note.Wrapping = fyne.TextWrapWord
	a.note.Importance = widget.LowImportance
	a.note.SetText("Used from the next call. --audio-in and --audio-out override this at start.")
	type found struct {
		devs    []node.AudioDevice
		in, out string
	}
	background(u, func() (found, error) {
		var f found
		f.in, f.out = u.audio.Audio()
		var err error
		f.devs, err = u.audio.AudioDevices()
		return f, err
	}, func(f found, err error) { a.fill(f.devs, f.in, f.out, err) })
	return a
}

// fill offers the devices (inputs that capture, outputs that play) and selects
// what is in use now.
func (a *audioSettings) fill(devs []node.AudioDevice, in, out string, err error) {
	a.was = [2]string{in, out}
	a.inSpec, a.outSpec = options(devs, true, in), options(devs, false, out)
	a.in.Options, a.out.Options = optionList(a.inSpec, devs, true), optionList(a.outSpec, devs, false)
	a.in.SetSelected(optionFor(a.inSpec, in))
	a.out.SetSelected(optionFor(a.outSpec, out))
	a.in.Enable()
	a.out.Enable()
	a.loaded = true
	if err != nil {
		a.note.Importance = widget.WarningImportance
		a.note.SetText("No sound devices found (" + err.Error() + "). Calls need a microphone and a speaker; " +
			"without them the other side hears silence and you hear nothing.")
	}
}

// options maps each offered label to its spec: the system default, every
// device that fits the direction, nothing at all, and the current spec if it
// is none of those (a WAV file or tone set by a flag).
func options(devs []node.AudioDevice, capture bool, current string) map[string]string {
	m := map[string]string{defaultName: specDefault, noneName(capture): specNone}
	for _, d := range devs {
		if (capture && d.Capture) || (!capture && d.Playback) {
			m[deviceLabel(d)] = "device:" + d.Name
		}
	}
	if optionFor(m, current) == "" {
		m[current] = current
	}
	return m
}

// optionList orders the options as people look for them: default first, the
// devices as the system lists them, then the rest.
func optionList(m map[string]string, devs []node.AudioDevice, capture bool) []string {
	list := []string{defaultName}
	for _, d := range devs {
		if _, ok := m[deviceLabel(d)]; ok && ((capture && d.Capture) || (!capture && d.Playback)) {
			list = append(list, deviceLabel(d))
		}
	}
	for label := range m {
		if label != defaultName && label != noneName(capture) && !strings.HasPrefix(m[label], "device:") {
			list = append(list, label)
		}
	}
	return append(list, noneName(capture))
}

func deviceLabel(d node.AudioDevice) string {
	if d.Default {
		return d.Name + " (system default)"
	}
	return d.Name
}

func noneName(capture bool) string {
	if capture {
		return "None (send silence)"
	}
	return "None (play nothing)"
}

// optionFor is the label of a spec ("" when none has it).
func optionFor(m map[string]string, spec string) string {
	if spec == "" {
		spec = specDefault
	}
	for label, s := range m {
		if s == spec {
			return label
		}
	}
	return ""
}

func (a *audioSettings) items() []*widget.FormItem {
	return []*widget.FormItem{
		widget.NewFormItem("Microphone", a.in),
		widget.NewFormItem("Speaker", a.out),
		widget.NewFormItem("", a.note),
	}
}

// save hands a changed choice to the core.
func (a *audioSettings) save() {
	if !a.loaded {
		return
	}
	in, out := a.inSpec[a.in.Selected], a.outSpec[a.out.Selected]
	if in == "" || out == "" || [2]string{in, out} == a.was {
		return
	}
	u := a.u
	background(u, func() (struct{}, error) { return struct{}{}, u.audio.SetAudio(in, out) },
		func(_ struct{}, err error) {
			if err != nil {
				u.showError("Changing the sound devices", err)
			}
		})
}
