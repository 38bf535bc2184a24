package signal

import (
	"fmt"
	"math"
)

// Sweep is n samples of a sine of peak amplitude amp whose frequency rises
// linearly from f0 to f1 Hz over the n samples (at sampleRate). It is the test
// signal for recordings judged with JudgeWindows: tonal, so Opus codes it
// nearly transparently, and never repeating, so cross-correlation finds exactly
// one alignment. A steady tone matches equally well a whole period either side,
// and one whose period divides the codec frame (550 Hz: 11 periods in 20 ms)
// hides a frame dropped or inserted mid-call altogether.
func Sweep(n, sampleRate int, f0, f1, amp float64) []int16 {
	out := make([]int16, n)
	seconds := float64(n) / float64(sampleRate)
	k := (f1 - f0) / seconds
	for i := range out {
		x := float64(i) / float64(sampleRate)
		out[i] = int16(amp * math.Sin(2*math.Pi*(f0*x+k*x*x/2)))
	}
	return out
}

// JudgeOptions says how JudgeWindows cuts and scores a recording. Lengths are
// in samples at the recording's rate.
type JudgeOptions struct {
	// Window is the length of a window judged on its own (200 ms in the call
	// tests), Frame the codec frame the jitter buffer splices by (20 ms).
	Window, Frame int
	// MinSNR is what every window must reach unless a splice excuses it (dB).
	MinSNR float64
	// MinWindows is how many whole windows the recording must cover.
	MinWindows int
	// Steady says ref is a steady tone with a whole number of periods in a
	// frame (550 Hz: 11 in 20 ms). A splice then shifts nothing, so every
	// window is compared at lag itself, and a window below MinSNR (a concealed
	// frame, the decoder settling) counts against the splices reported without
	// a jump in the alignment to show for it: the alignment cannot show one.
	Steady bool
	// Logf, when set, is given each window's lag and SNR and a summary (a
	// test's t.Logf).
	Logf func(format string, args ...any)
}

// JudgeWindows checks that a call's recording got matches its source ref
// window by window, where Align and SNR over the whole recording would judge it
// at one lag. A recording is not a fixed delay of its source: the far end's
// jitter buffer splices, playing one frame extra or dropping one to move its
// delay toward its target (more often when the machine stalls the playout loop),
// which shifts all that follows by a frame; at one lag everything after the
// first splice then counts as noise, and a clean call fails.
//
// So each window is aligned on its own, within a frame and a tenth (2 ms for
// 20 ms frames: Opus's delay also differs by a few samples across a sweep) of
// the window before, starting from lag (the whole recording's, from Align:
// got[i+lag] ≈ ref[i]). A window below MinSNR is excused only if the alignment
// jumps by at least half a frame across it, and there may be no more than two
// excused windows per splice the jitter buffer reports (splices: stretched +
// skipped frames): the window the splice falls in, and the next, since the
// decoder resumes from state a frame away and takes a few milliseconds to
// settle (seen under make test: one skip, windows at 1.3 and 18.5 dB, the rest
// 24–43 dB). Nor may more than a fifth of the windows be excused: that is not
// a clean link. A splice the buffer did not report, or damage with no jump in
// the alignment, fails. The recording may end before the source (a hang-up).
//
// The alignment needs a source that matches itself in one place only (Sweep,
// speech). A steady tone matches a period either side, so its windows cannot
// be aligned one by one; a tone whose period divides the frame is judged at
// one lag instead (JudgeOptions.Steady), which still tells damage the splices
// reported may excuse from damage they may not, but no longer where it fell.
func JudgeWindows(ref, got []int16, lag, splices int, o JudgeOptions) error {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	win, slack := o.Window, o.Frame+o.Frame/10
	if win <= 0 || o.Frame <= 0 {
		return fmt.Errorf("signal: JudgeWindows needs a window and a frame length (%d, %d)", win, o.Frame)
	}
	type window struct {
		lag int
		snr float64
	}
	var ws []window
	prev := lag
	// With lag < 0 the source started before the recording: windows start
	// where the recording does.
	for w := max(0, -lag); w+win <= len(ref); w += win {
		l := lag
		if !o.Steady {
			from := max(0, w+prev-slack)
			if from+win+2*slack > len(got) {
				break // hung up before the source ended
			}
			sub := got[from : from+win+2*slack]
			l, _ = Align(ref[w:w+win], sub, 2*slack)
			l += from - w
		}
		if w+l < 0 || w+l+win > len(got) {
			break
		}
		ws = append(ws, window{l, SNR(ref[w:w+win], got[w+l:w+l+win], 0)})
		prev = l
	}
	for i, w := range ws {
		logf("window %2d: lag %+d, SNR %.1f dB", i, w.lag-lag, w.snr)
	}
	if len(ws) < o.MinWindows {
		return fmt.Errorf("the recording covers %d windows of %d samples, want %d", len(ws), win, o.MinWindows)
	}
	var bad, excused []int
	worst := math.Inf(1)
	for i, w := range ws {
		if w.snr >= o.MinSNR {
			worst = min(worst, w.snr)
			continue
		}
		before, after := ws[max(0, i-1)].lag, ws[min(len(ws)-1, i+1)].lag
		if jump := after - before; o.Steady || jump >= o.Frame/2 || -jump >= o.Frame/2 {
			excused = append(excused, i)
		} else {
			bad = append(bad, i)
		}
	}
	logf("worst clean window %.1f dB; %d windows across a splice %v (the jitter buffer reports %d)", worst, len(excused), excused, splices)
	if len(bad) > 0 {
		return fmt.Errorf("windows %v below %.0f dB with no splice to explain them", bad, o.MinSNR)
	}
	if len(excused) > 2*splices {
		return fmt.Errorf("%d windows excused as splices, but the jitter buffer made only %d", len(excused), splices)
	}
	if len(excused) > len(ws)/5 {
		return fmt.Errorf("%d of %d windows spliced: that is not a clean link", len(excused), len(ws))
	}
	return nil
}
