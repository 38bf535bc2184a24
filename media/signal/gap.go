package signal

import "slices"

// ToneSilence says, for each whole window of n samples, whether the hz tone
// is missing from it: its ToneLevel below frac of the tone's level in the
// 90th-percentile window (so the threshold follows what the recording holds,
// mixed or not; not the median, which a gap over half the recording would
// bring to nothing). A failover test reads the audio gap around a lost relay
// or mixer from it (media/call TestMixerLost, itest TestFailover).
func ToneSilence(samples []int16, hz float64, sampleRate, n int, frac float64) []bool {
	if n <= 0 {
		return nil
	}
	var lv []float64
	for i := 0; i+n <= len(samples); i += n {
		lv = append(lv, ToneLevel(samples[i:i+n], hz, sampleRate))
	}
	if len(lv) == 0 {
		return nil
	}
	sorted := slices.Sorted(slices.Values(lv))
	ref := sorted[len(sorted)*9/10]
	out := make([]bool, len(lv))
	for i, v := range lv {
		out[i] = v < frac*ref
	}
	return out
}

// LongestRun is the start and length of the longest run of true in s
// (0, 0 when there is none).
func LongestRun(s []bool) (start, length int) {
	run := 0
	for i, v := range s {
		if !v {
			run = 0
			continue
		}
		run++
		if run > length {
			start, length = i-run+1, run
		}
	}
	return start, length
}

// ToneGap finds the longest stretch of samples in which the hz tone is not
// heard (ToneSilence over windows of n samples). It returns the stretch's
// start and length in samples (0, 0 when the tone is heard in every window,
// or there is no whole window).
func ToneGap(samples []int16, hz float64, sampleRate, n int, frac float64) (start, length int) {
	start, length = LongestRun(ToneSilence(samples, hz, sampleRate, n, frac))
	return start * n, length * n
}
