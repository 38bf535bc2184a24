package signal

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// The call tests' figures: 48 kHz, 20 ms frames, 200 ms windows, 20 dB, 5 s.
const (
	rate  = 48000
	frame = rate / 50
)

// TestJudgeWindows checks the judge on made-up recordings of 6 s of a sweep
// (the integration test's source) or of a 550 Hz tone (the unit test's, with 11
// periods in a frame): delayed by 10 ms unless said, with a little noise (about
// 40 dB down), and spliced as a jitter buffer would, at 2.3 s unless said.
func TestJudgeWindows(t *testing.T) {
	sweep := Sweep(6*rate, rate, 250, 1500, 9000)
	tone := sine(6*rate, 550, 8000, rate)
	const delay, at = 480, 2*rate + 3*rate/10
	type edit func([]int16) []int16
	skip := func(at int) edit {
		return func(x []int16) []int16 { return append(x[:at:at], x[at+frame:]...) }
	}
	stretch := func(x []int16) []int16 { // one frame of concealment-like noise
		rng := rand.New(rand.NewPCG(3, 4))
		return append(append(x[:at:at], noise(rng, frame, 3000)...), x[at:]...)
	}
	garble := func(n int) edit { // n samples of noise at 4 s, no splice
		return func(x []int16) []int16 {
			rng := rand.New(rand.NewPCG(5, 6))
			copy(x[4*rate:], noise(rng, n, 6000))
			return x
		}
	}
	for _, tc := range []struct {
		name    string
		steady  bool
		lag     int // of the recording; the source is cut or padded to match
		edits   []edit
		splices int
		fail    string // part of the error; "" for a pass
	}{
		{"clean", false, delay, nil, 0, ""},
		{"recording starts 50 ms into the source", false, -2400, nil, 0, ""},
		{"one reported skip", false, delay, []edit{skip(at)}, 1, ""},
		{"one reported stretch", false, delay, []edit{stretch}, 1, ""},
		{"a skip the jitter buffer did not report", false, delay, []edit{skip(at)}, 0, "but the jitter buffer made only 0"},
		{"100 ms of noise without a splice", false, delay, []edit{garble(rate / 10)}, 5, "with no splice to explain them"},
		{"too many splices for a clean link", false, delay, []edit{
			skip(rate / 2), skip(rate), skip(3 * rate / 2), skip(2 * rate), skip(5 * rate / 2), skip(3 * rate),
		}, 6, "that is not a clean link"},
		{"hung up after 4 s", false, delay, []edit{func(x []int16) []int16 { return x[:delay+4*rate] }}, 0, "covers 19 windows"},

		{"steady tone, clean", true, delay, nil, 0, ""},
		{"steady tone from 50 ms in", true, -2400, nil, 0, ""},
		{"steady tone, one reported skip and stretch", true, delay, []edit{skip(rate), stretch}, 2, ""},
		{"steady tone, a stretch the jitter buffer did not report", true, delay, []edit{stretch}, 0, "but the jitter buffer made only 0"},
		// A tone cannot show where a splice fell: damage elsewhere counts
		// against the splices reported, and fails past two windows each.
		{"steady tone, 300 ms of noise and one splice", true, delay, []edit{garble(3 * rate / 10), stretch}, 1, "but the jitter buffer made only 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each aligns 30 windows: 1.5 s under the race detector
			ref := sweep
			if tc.steady {
				ref = tone
			}
			var got []int16
			if tc.lag >= 0 {
				got = append(make([]int16, tc.lag), ref...)
			} else {
				got = append([]int16(nil), ref[-tc.lag:]...)
			}
			for _, e := range tc.edits {
				got = e(got)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range got {
				got[i] += int16(rng.NormFloat64() * 60)
			}
			o := JudgeOptions{Window: rate / 5, Frame: frame, MinSNR: 20, MinWindows: 25, Steady: tc.steady, Logf: t.Logf}
			err := JudgeWindows(ref, got, tc.lag, tc.splices, o)
			switch {
			case tc.fail == "" && err != nil:
				t.Fatalf("failed: %v", err)
			case tc.fail != "" && err == nil:
				t.Fatalf("passed, want an error with %q", tc.fail)
			case tc.fail != "" && !strings.Contains(err.Error(), tc.fail):
				t.Fatalf("error %q, want one with %q", err, tc.fail)
			}
		})
	}
}
