package signal

import "slices"

// ToneGap finds the longest stretch of samples in which the hz tone is not
// heard: consecutive windows of n samples whose ToneLevel is below frac of
// the tone's level in the 90th-percentile window (so the threshold follows
// what the recording holds, mixed or not; not the median, which a gap over
// half the recording would bring to nothing). It returns the stretch's start and length
// in samples (0, 0 when the tone is heard in every window, or there is no
// whole window). A failover test judges the audio gap around a lost relay or
// mixer with it (media/call TestMixerLost, itest TestFailover).
func ToneGap(samples []int16, hz float64, sampleRate, n int, frac float64) (start, length int) {
	if n <= 0 {
		return 0, 0
	}
	var lv []float64
	for i := 0; i+n <= len(samples); i += n {
		lv = append(lv, ToneLevel(samples[i:i+n], hz, sampleRate))
	}
	if len(lv) == 0 {
		return 0, 0
	}
	sorted := slices.Sorted(slices.Values(lv))
	ref := sorted[len(sorted)*9/10]
	best, bestAt, run := 0, 0, 0
	for i, v := range lv {
		if v >= frac*ref {
			run = 0
			continue
		}
		run++
		if run > best {
			best, bestAt = run, i-run+1
		}
	}
	return bestAt * n, best * n
}
