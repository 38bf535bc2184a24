package main

import (
	"fmt"
	"slices"
	"time"

	"parley/media/audio"
	"parley/media/signal"
)

// failoverGap is the longest silence of tone hz in pcm that begins from half a
// second before the kill to a second and a half after it, and the longest
// silence from when the call's audio flowed steadily to the kill (the
// machine's own stalls); sinceKill and sinceSteady are how long the node kept
// recording after each. The same
// judgement as itest/failover_test.go's measureGap: on a loaded machine
// calls are sometimes starved for seconds before a kill as after it, and the
// longest silence of the whole recording would report that instead.
func failoverGap(pcm []int16, hz float64, sinceKill, sinceSteady time.Duration) (gap, before time.Duration) {
	sil := signal.ToneSilence(pcm, hz, audio.SampleRate, audio.FrameSamples, 0.3)
	dur := func(windows int) time.Duration { return time.Duration(windows) * audio.FrameDuration }
	clamp := func(i int) int { return max(0, min(i, len(sil))) }
	killW := len(sil) - int(sinceKill/audio.FrameDuration)
	endW := clamp(len(sil) - int(500*time.Millisecond/audio.FrameDuration))
	if from, to := clamp(len(sil)-int(sinceSteady/audio.FrameDuration)), clamp(killW-25); from < to {
		_, n := signal.LongestRun(sil[from:to])
		before = dur(n)
	}
	for i := clamp(killW - 25); i < endW && i < killW+75; {
		if !sil[i] {
			i++
			continue
		}
		j := i
		for j < len(sil) && sil[j] {
			j++
		}
		gap = max(gap, dur(j-i))
		i = j
	}
	return gap, before
}

// gapRun is one run's figures: every listener–speaker pair's failover gap.
type gapRun struct {
	gaps   []time.Duration
	before time.Duration // longest silence before the kill, any pair
	moved  time.Duration // kill → the last remaining node's *_moved event
	steady time.Time     // audio flowed from everyone (the "before" window starts)
	killed time.Time
	load   string
}

func printGaps(title string, runs []gapRun) {
	fmt.Printf("\n%s: audio gap (longest silence around the kill, per listener and speaker)\n\n", title)
	fmt.Println("| run | pairs | p50 gap | worst gap | kill → moved (last node) | longest silence before the kill | load (1 min) |")
	fmt.Println("|---|---|---|---|---|---|---|")
	var worst []time.Duration
	for i, r := range runs {
		s := slices.Clone(r.gaps)
		slices.Sort(s)
		worst = append(worst, s[len(s)-1])
		fmt.Printf("| %d | %d | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %s |\n",
			i+1, len(s), ms(s[len(s)/2]), ms(s[len(s)-1]), ms(r.moved), ms(r.before), r.load)
	}
	fmt.Printf("\nWorst gap over runs (min / median / max): %s (goal < 2 s)\n", spread(worst))
}
