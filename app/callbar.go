package app

import (
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// endedFor is how long the bar keeps saying why a call ended.
const endedFor = 8 * time.Second

// staleStats: call_stats come once a second per leg; figures older than this
// are from a leg that has gone quiet.
const staleStats = 3 * time.Second

// callBar runs across the top of the window during a call, whichever
// conversation is open: who, how far the call is (or how long it has run),
// the live quality, a level meter that moves when audio arrives, Mute and
// Hang up. After the call it says briefly why it ended.
type callBar struct {
	u       *ui
	bg      *tint
	meter   *levelMeter
	who     *widget.Label
	state   *widget.Label
	quality *widget.Label
	mute    *widget.Button
	hangup  *widget.Button
	live    fyne.CanvasObject

	ended    *widget.Label
	endedRow fyne.CanvasObject
	endedGen int // bumps with every end, so an old timer leaves a newer text alone
	obj      *fyne.Container
}

func newCallBar(u *ui) *callBar {
	// The clock (state) is in the regular style: the theme's Noto Sans has
	// tabular digits (all 572 units wide), so "01:59" → "02:00" does not move
	// the meter, and a monospace label here cost every start a third set of
	// faces, hidden bar or not (startup_test.go).
	b := &callBar{u: u, bg: newTint(theme.ColorNamePrimary, 0x30), meter: newLevelMeter(),
		who:     widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		state:   widget.NewLabel(""),
		quality: widget.NewLabel(""),
		ended:   widget.NewLabel(""),
	}
	b.quality.Truncation = fyne.TextTruncateEllipsis
	b.ended.Truncation = fyne.TextTruncateEllipsis
	b.mute = widget.NewButtonWithIcon("Mute", micIcon, func() { u.toggleMute() })
	b.hangup = widget.NewButtonWithIcon("Hang up", hangupIcon, func() { u.hangup() })
	b.hangup.Importance = widget.DangerImportance
	meter := container.NewCenter(container.NewGridWrap(fyne.NewSize(56, 10), b.meter))
	left := container.NewHBox(widget.NewIcon(callIcon), b.who, b.state, meter)
	b.live = container.NewBorder(nil, nil, left, container.NewHBox(b.mute, b.hangup), b.quality)
	dismiss := widget.NewButtonWithIcon("", theme.CancelIcon(), func() { b.clearEnded() })
	dismiss.Importance = widget.LowImportance
	b.endedRow = container.NewBorder(nil, nil, widget.NewIcon(hangupIcon), dismiss, b.ended)
	b.obj = container.NewStack(b.bg, container.NewPadded(container.NewStack(b.live, b.endedRow)))
	b.obj.Hide()
	return b
}

func (b *callBar) object() fyne.CanvasObject { return b.obj }

// refresh redraws the bar from the call (also once a second for the clock).
func (b *callBar) refresh() {
	s := b.u.call
	switch {
	case s == nil && b.ended.Text != "":
		b.live.Hide()
		b.endedRow.Show()
		b.bg.SetColour(theme.ColorNameDisabled, 0x30)
		b.obj.Show()
		b.u.callBandChanged("ended")
		return
	case s == nil || s.state == callIncoming: // the ring card shows an incoming call
		b.obj.Hide()
		if s == nil {
			b.u.callBandChanged("")
		}
		return
	}
	b.endedRow.Hide()
	b.live.Show()
	b.bg.SetColour(theme.ColorNamePrimary, 0x30)
	b.who.SetText(b.u.callWho(s))
	switch {
	case s.ending:
		b.state.SetText("Hanging up…")
	case s.state == callActive:
		b.state.SetText(elapsed(time.Since(s.since)))
	default:
		b.state.SetText(progressText(s.state))
	}
	b.refreshQuality(s)
	if s.muted {
		b.mute.SetText("Unmute")
		b.mute.SetIcon(micOffIcon)
		b.mute.Importance = widget.WarningImportance
	} else {
		b.mute.SetText("Mute")
		b.mute.SetIcon(micIcon)
		b.mute.Importance = widget.MediumImportance
	}
	b.mute.Refresh()
	enable(b.mute, s.id != "" && !s.ending && !s.muting)
	enable(b.hangup, !s.ending)
	b.obj.Show()
	b.u.callBandChanged("live")
}

// refreshQuality shows the worst leg's figures (the one people will hear),
// the relays in use and the loudest arriving audio.
func (b *callBar) refreshQuality(s *callSession) {
	if s.state != callActive {
		b.quality.SetText("")
		b.meter.SetLevel(0)
		return
	}
	if len(s.stats) == 0 {
		b.quality.SetText("Waiting for audio…")
		b.meter.SetLevel(0)
		return
	}
	var rtt, loss, level float64
	var relays []string
	fresh := 0
	for _, st := range s.stats {
		// A leg that stopped reporting (a member who left a group call) no
		// longer speaks for the call.
		if time.Since(st.at) > staleStats {
			continue
		}
		fresh++
		rtt, loss, level = max(rtt, st.RTTms), max(loss, st.Loss), max(level, st.Level)
		if st.Relay != "" {
			name := st.RelayName
			if name == "" {
				name = b.u.callName(s, st.Relay)
			}
			if !slices.Contains(relays, name) {
				relays = append(relays, name)
			}
		}
	}
	if fresh == 0 {
		b.quality.SetText("No figures for a few seconds — the connection may have stalled")
		b.meter.SetLevel(0)
		return
	}
	slices.Sort(relays)
	text := qualityText(rtt, loss, relays)
	if s.muted {
		text = "You are muted · " + text
	}
	b.quality.SetText(text)
	b.meter.SetLevel(meterLevel(level))
}

// showEnded says why the call ended, for endedFor.
func (b *callBar) showEnded(text string) {
	b.endedGen++
	gen := b.endedGen
	b.ended.SetText(text)
	time.AfterFunc(endedFor, func() {
		b.u.do(func() {
			if b.endedGen == gen {
				b.clearEnded()
			}
		})
	})
}

func (b *callBar) clearEnded() {
	b.endedGen++
	b.ended.SetText("")
	b.refresh()
}

func enable(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}
