package app

import (
	"errors"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// soundSelects are the settings dialog's Microphone and Speaker selectors,
// once the device list has arrived.
func (h *harness) soundSelects() (in, out *widget.Select) {
	h.t.Helper()
	h.waitFor("the device list", func() bool {
		var sel []*widget.Select
		h.everything(func(o fyne.CanvasObject) {
			if s, ok := o.(*widget.Select); ok && !s.Disabled() && slices.Contains(s.Options, defaultName) {
				sel = append(sel, s)
			}
		})
		if len(sel) == 2 {
			in, out = sel[0], sel[1]
		}
		return in != nil
	})
	return in, out
}

func TestSoundDevicesChosenInSettings(t *testing.T) {
	h, cf := callHarness(t, fivePeers())
	cf.out = "device:HDMI Monitor"
	h.u.showSettings()
	in, out := h.soundSelects()
	wantIn := []string{defaultName, "Built-in Audio (system default)", "USB Headset", "None (send silence)"}
	if !slices.Equal(in.Options, wantIn) {
		t.Errorf("microphones %q, want %q", in.Options, wantIn)
	}
	if !slices.Contains(out.Options, "HDMI Monitor") || slices.Contains(in.Options, "HDMI Monitor") {
		t.Errorf("a playback-only device is offered wrongly: in %q out %q", in.Options, out.Options)
	}
	if in.Selected != defaultName || out.Selected != "HDMI Monitor" {
		t.Errorf("selected %q / %q, want the specs in use", in.Selected, out.Selected)
	}

	// Saving without a change does not touch the core; a change is saved.
	test.Tap(h.button("Save"))
	h.u.showSettings()
	in, _ = h.soundSelects()
	in.SetSelected("USB Headset")
	test.Tap(h.button("Save"))
	h.waitFor("SetAudio", func() bool {
		var got []string
		cf.cmu.Lock()
		got = slices.Clone(cf.setAudio)
		cf.cmu.Unlock()
		return slices.Equal(got, []string{"device:USB Headset|device:HDMI Monitor"})
	})
}

// A machine without sound says so in plain words and still offers the default
// and silence.
func TestNoSoundDevicesSaidPlainly(t *testing.T) {
	h, cf := callHarness(t, fivePeers())
	cf.devErr = errors.New("no audio backend")
	cf.in = "tone:440"
	h.u.showSettings()
	in, _ := h.soundSelects()
	if len(h.labelsContaining("No sound devices found (no audio backend)")) == 0 {
		t.Error("the missing devices are not explained")
	}
	if in.Selected != "tone:440" || !slices.Contains(in.Options, "None (send silence)") {
		t.Errorf("input %q of %q", in.Selected, in.Options)
	}
}
