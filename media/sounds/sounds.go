// Package sounds synthesises Parley's few sounds (the ring of an incoming call,
// the ringback an outgoing call hears while the other side rings, and the
// short chime of a new message) as 48 kHz mono PCM, the one format of the
// voice pipeline (media/audio). They are computed, not recorded: a few
// decaying sines, made here, with nothing copied, and the same on every
// platform, and nothing to ship or load (600 KB of WAV files otherwise); a
// node plays them through its call audio output (node/sounds.go).
package sounds

import (
	"math"
	"sort"
)

// SampleRate is media/audio's (48 kHz); repeated here so this package stays a
// leaf that a generator can use without the audio devices' cgo.
const SampleRate = 48000

// The sounds' names, as node.PlaySound takes them.
const (
	Ring     = "ring"     // an incoming call: a rising three-note chime, every 2 s
	Ringback = "ringback" // our outgoing call rings there: 440+480 Hz, 1 s in every 4
	Message  = "message"  // a new message while the window is in the background
	// Alarm: an urgent message, urgent call or all-hands alert (issue 24): a
	// two-tone hi-lo, 4 s of it then 1 s quiet, until stopped.
	Alarm = "alarm"
)

// Sound is one sound: its samples and whether it repeats until stopped.
type Sound struct {
	PCM  []int16
	Loop bool
}

// peak is each sound's loudest sample, a third of full scale: clearly heard
// beside a call's voice, and with headroom when mixed into one.
const peak = 0.33

// Names lists the sounds, sorted.
func Names() []string {
	out := make([]string, 0, len(makers))
	for n := range makers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Get synthesises the named sound; ok is false for an unknown name.
func Get(name string) (Sound, bool) {
	mk, ok := makers[name]
	if !ok {
		return Sound{}, false
	}
	return mk(), true
}

var makers = map[string]func() Sound{
	Ring: func() Sound {
		// E5, G#5, B5: an E major arpeggio, each note a struck bell (a
		// fundamental with a softer octave) that dies away; then quiet.
		pcm := make([]float64, 2*SampleRate)
		for i, hz := range []float64{659.26, 830.61, 987.77} {
			strike(pcm, float64(i)*0.16, 0.55, hz, 9)
		}
		return Sound{PCM: quantise(pcm), Loop: true}
	},
	Ringback: func() Sound {
		// The North American ringback: 440 and 480 Hz together, 1 s on, 3 s
		// off, with 10 ms ramps so it does not click.
		pcm := make([]float64, 4*SampleRate)
		on := SampleRate
		ramp := SampleRate / 100
		for i := range on {
			t := float64(i) / SampleRate
			env := math.Min(1, math.Min(float64(i), float64(on-i))/float64(ramp))
			pcm[i] = env * 0.5 * (math.Sin(2*math.Pi*440*t) + math.Sin(2*math.Pi*480*t))
		}
		return Sound{PCM: quantise(pcm), Loop: true}
	},
	Alarm: func() Sound {
		// 960 and 770 Hz alternating every 250 ms (the hi-lo of European
		// emergency sirens, unlike any other sound here), square-ish (a
		// fundamental and a third harmonic) to cut through a noisy room, with
		// 5 ms ramps at each change so it does not click.
		pcm := make([]float64, 5*SampleRate)
		step := SampleRate / 4
		ramp := SampleRate / 200
		for i := range 4 * SampleRate {
			hz := 960.0
			if (i/step)%2 == 1 {
				hz = 770
			}
			k := i % step
			env := math.Min(1, math.Min(float64(k), float64(step-k))/float64(ramp))
			t := float64(i) / SampleRate
			pcm[i] = env * (math.Sin(2*math.Pi*hz*t) + math.Sin(6*math.Pi*hz*t)/3)
		}
		return Sound{PCM: quantise(pcm), Loop: true}
	},
	Message: func() Sound {
		// Two quick notes a fourth apart (A5, D6): short and light.
		pcm := make([]float64, SampleRate*35/100)
		strike(pcm, 0, 0.2, 880, 18)
		strike(pcm, 0.09, 0.25, 1174.66, 16)
		return Sound{PCM: quantise(pcm), Loop: false}
	},
}

// strike adds a bell-like note at start seconds for dur seconds: a sine and
// its octave at a third of its level, a 5 ms attack, then an exponential
// decay of rate per second.
func strike(pcm []float64, start, dur, hz, rate float64) {
	from := int(start * SampleRate)
	n := int(dur * SampleRate)
	attack := SampleRate / 200
	for i := 0; i < n && from+i < len(pcm); i++ {
		t := float64(i) / SampleRate
		env := math.Exp(-rate*t) * math.Min(1, float64(i)/float64(attack))
		// The tail is faded to zero over the last 10 ms so no note ends on a click.
		if tail := n - i; tail < SampleRate/100 {
			env *= float64(tail) / float64(SampleRate/100)
		}
		pcm[from+i] += env * (math.Sin(2*math.Pi*hz*t) + math.Sin(4*math.Pi*hz*t)/3)
	}
}

// quantise scales pcm so its loudest sample is peak of full scale and
// converts it to 16-bit samples.
func quantise(pcm []float64) []int16 {
	top := 0.0
	for _, v := range pcm {
		top = math.Max(top, math.Abs(v))
	}
	out := make([]int16, len(pcm))
	if top == 0 {
		return out
	}
	for i, v := range pcm {
		out[i] = int16(math.Round(v / top * peak * math.MaxInt16))
	}
	return out
}
