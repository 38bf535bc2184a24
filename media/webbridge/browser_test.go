package webbridge

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"parley/media/audio"
	"parley/media/webbridge/webbridgetest"
)

// loopbackOnly gathers on the loopback interface only, so tests send nothing
// off the machine.
func loopbackOnly(name string) bool { return name == "lo" }

// connect runs the offer/answer between a fake browser and a new bridge on
// loopback, with edit applied to the offer first (nil: as is).
func connect(t *testing.T, edit func(string) string) (*webbridgetest.Browser, *Bridge) {
	t.Helper()
	return connectWith(t, webbridgetest.Loopback, Config{Interfaces: loopbackOnly, IncludeLoopback: true}, edit)
}

// connectWith is connect with the browser's and the bridge's configuration.
func connectWith(t *testing.T, fc webbridgetest.Config, cfg Config, edit func(string) string) (*webbridgetest.Browser, *Bridge) {
	t.Helper()
	f := webbridgetest.New(t, fc)
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	offer := f.Offer()
	if edit != nil {
		offer = edit(offer)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := b.Answer(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(answer, "a=candidate:") || !strings.Contains(answer, "opus/48000") {
		t.Fatalf("answer without candidates or Opus:\n%s", answer)
	}
	f.Accept(answer)
	return f, b
}

// waitFor polls cond until it holds or d passes (the network is real).
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readPaced reads frames from src every 20 ms, as a call's loop does, and
// returns them joined.
func readPaced(t *testing.T, src audio.Source, frames int) []int16 {
	t.Helper()
	tick := time.NewTicker(audio.FrameDuration)
	defer tick.Stop()
	out := make([]int16, 0, frames*audio.FrameSamples)
	frame := make([]int16, audio.FrameSamples)
	for range frames {
		<-tick.C
		if err := src.ReadFrame(frame); err != nil {
			t.Fatal(err)
		}
		out = append(out, frame...)
	}
	return out
}

// dropSilence leaves out the frames at the start that are silent (before the
// stream began).
func dropSilence(x []int16) []int16 {
	for len(x) >= audio.FrameSamples {
		loud := false
		for _, v := range x[:audio.FrameSamples] {
			if v > 300 || v < -300 {
				loud = true
				break
			}
		}
		if loud {
			break
		}
		x = x[audio.FrameSamples:]
	}
	return x
}

// dbfs of a sine of peak amp (fraction of full scale).
func sineDBFS(amp float64) float64 { return 20 * math.Log10(amp/math.Sqrt2) }
