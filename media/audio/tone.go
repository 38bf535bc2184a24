package audio

import (
	"math"
)

// Tone is an endless sine wave. It is not paced: wrap it with Paced to get real time.
type Tone struct {
	amp   float64
	step  float64 // phase advance per sample, radians
	phase float64 // kept across frames so frame boundaries do not click
}

// NewTone returns a sine source of hz at amplitude amplitude, as a fraction of full
// scale (0..1; values outside are clamped).
func NewTone(hz, amplitude float64) *Tone {
	amplitude = math.Max(0, math.Min(1, amplitude))
	return &Tone{amp: amplitude * math.MaxInt16, step: 2 * math.Pi * hz / SampleRate}
}

// ReadFrame writes the next FrameSamples samples of the wave.
func (t *Tone) ReadFrame(dst []int16) error {
	if err := checkFrame(dst); err != nil {
		return err
	}
	for i := range dst {
		dst[i] = int16(math.Round(t.amp * math.Sin(t.phase)))
		t.phase += t.step
	}
	// Wrapping keeps the phase small, so precision does not decay over a long call.
	t.phase = math.Mod(t.phase, 2*math.Pi)
	return nil
}

// Close does nothing; a tone has no resources.
func (t *Tone) Close() error { return nil }
