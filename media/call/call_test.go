package call

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"parley/internal/testwait"
	"parley/media/audio"
	"parley/media/signal"
)

// answerIncoming answers the first incoming call p sees.
func answerIncoming(t *testing.T, p *party) ID {
	t.Helper()
	in := p.ev.wait(t, "incoming call", func(ev any) bool { _, ok := ev.(Incoming); return ok }).(Incoming)
	if err := p.m.Answer(in.Call); err != nil {
		t.Fatalf("answer: %v", err)
	}
	return in.Call
}

// waitFrames waits until p has played n frames.
func waitFrames(t *testing.T, p *party, n int) [][]int16 {
	t.Helper()
	var f [][]int16
	testwait.Until(t, waitLimit, 20*time.Millisecond, fmt.Sprintf("%d frames played", n), func() bool {
		f = p.out.snapshot()
		return len(f) >= n
	})
	return f
}

// audible returns the frames from the first one carrying sound.
func audible(frames [][]int16) [][]int16 {
	for i, f := range frames {
		if rms(f) > 500 {
			return frames[i:]
		}
	}
	return nil
}

func flatten(frames [][]int16) []int16 {
	var out []int16
	for _, f := range frames {
		out = append(out, f...)
	}
	return out
}

func TestCallCarriesTheTone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		alice, bob := twoParties(t)

		id, err := alice.m.Call(bob.id)
		if err != nil {
			t.Fatal(err)
		}
		if got := answerIncoming(t, bob); got != id {
			t.Fatalf("bob was rung for %s, alice placed %s", got, id)
		}
		alice.ev.waitState(t, StateRinging)
		alice.ev.waitState(t, StateActive)
		bob.ev.waitState(t, StateActive)
		frames := waitFrames(t, bob, 150)

		heard := flatten(audible(frames))
		if len(heard) < 50*960 {
			t.Fatalf("bob heard %d samples of sound in %d frames", len(heard), len(frames))
		}
		sent := alice.src.samples()
		lag, corr := signal.Align(sent, heard, len(sent))
		t.Logf("aligned at lag %d (corr %.3f), whole-recording SNR %.1f dB", lag, corr, signal.SNR(sent, heard, lag))
		// Every 200 ms must reach 20 dB, bar two windows per frame bob's jitter
		// buffer stretched or skipped (it does under load: a concealed frame, and
		// the decoder settling after it, cost a window what one lag over the whole
		// recording charged all of it, 15.7 dB seen). The splices are those of a
		// report that counts at least the frames recorded, so none in the recording
		// is missed. 550 Hz has 11 periods in a frame: a splice shifts nothing, and
		// the recording is judged at one lag (JudgeOptions.Steady). The first
		// audible frame is left out: it begins with the encoder's look-ahead, 6.5 ms
		// of fade-in from silence (3 dB).
		rec := bob.ev.wait(t, "stats counting the recorded frames", func(ev any) bool {
			s, ok := ev.(Stats)
			return ok && s.Call == id && s.FramesPlayed+s.Concealed+s.Recovered >= uint64(len(frames))
		}).(Stats)
		judge := signal.JudgeOptions{
			Window: audio.SampleRate / 5, Frame: audio.FrameSamples, MinSNR: 20, MinWindows: 10,
			Steady: true, Logf: t.Logf,
		}
		if err := signal.JudgeWindows(sent, heard[audio.FrameSamples:], lag-audio.FrameSamples, int(rec.Stretched+rec.Skipped), judge); err != nil {
			t.Fatalf("on a clean link: %v", err)
		}
		if f := signal.DominantFrequency(heard, 48000); f < 540 || f > 560 {
			t.Fatalf("bob heard %.0f Hz, alice sent 550", f)
		}
		st := bob.ev.wait(t, "stats with audio", func(ev any) bool {
			s, ok := ev.(Stats)
			return ok && s.FramesPlayed > 0 && s.SetupTime > 0
		}).(Stats)
		if st.Codec != "opus/48000" || st.Path == "" || !st.Relay.IsZero() {
			t.Fatalf("stats: %+v", st)
		}
		// A clean link reports no loss, so alice's FEC stays off: after 3 s of
		// reports (about one a second) her encoder still expects none.
		late := alice.ev.wait(t, "alice's stats after 3 s of audio", func(ev any) bool {
			s, ok := ev.(Stats)
			return ok && s.FramesSent > 150
		}).(Stats)
		if late.FECLoss != 0 {
			t.Fatalf("FEC tuned for %d %% loss on a clean link", late.FECLoss)
		}

		if err := alice.m.Hangup(id); err != nil {
			t.Fatal(err)
		}
		if e := alice.ev.waitState(t, StateEnded); e.Reason != ReasonHangup {
			t.Fatalf("alice ended with %q", e.Reason)
		}
		if e := bob.ev.waitState(t, StateEnded); e.Reason != ReasonRemoteHang {
			t.Fatalf("bob ended with %q", e.Reason)
		}
		if len(alice.m.Active())+len(bob.m.Active()) != 0 {
			t.Fatal("calls left after hang-up")
		}
	})
}

// TestCallStaysContinuousAtFivePercentLoss runs a call over a virtual network
// that drops 5 % of all packets and jitters them by up to 20 ms: the far end
// must hear sound in every frame once audio started (loss concealed or
// recovered from FEC, never a gap of silence).
func TestCallStaysContinuousAtFivePercentLoss(t *testing.T) {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(7, 11))
	dropped, total := 0, 0
	lastDropped := false
	keep := func() bool {
		mu.Lock()
		defer mu.Unlock()
		total++
		// Random but isolated losses (a packet after a dropped one always
		// passes; 0.0526 then gives 5 % in all): what FEC and concealment are
		// for. Back-to-back losses are a burst, which no 20 ms codec hides —
		// with independent 5 % loss they come about once per 400 packets, and
		// made this test fail one run in six for reasons it does not test.
		if !lastDropped && rng.Float64() < 0.0526 {
			dropped++
			lastDropped = true
			return false
		}
		lastDropped = false
		return true
	}
	lab := newVnetLab(t, 5*time.Millisecond, 20*time.Millisecond, keep)
	var b bus
	alice := b.newParty(t, 1, lab.net(t), nil)
	bob := b.newParty(t, 2, lab.net(t), nil)
	lab.start(t)

	if _, err := alice.m.Call(bob.id); err != nil {
		t.Fatal(err)
	}
	answerIncoming(t, bob)
	bob.ev.waitState(t, StateActive)
	frames := audible(waitFrames(t, bob, 250))
	if len(frames) < 150 {
		t.Fatalf("only %d audible frames", len(frames))
	}
	// Skip the first 10 frames (the jitter buffer settling); after that a frame
	// below a tenth of the tone's level (-20 dB) is a gap.
	// Frames rebuilt from FEC come out a little quieter (-10 dB or so for a
	// pure tone); they are counted, not failed.
	const toneRMS = 8000 / math.Sqrt2
	var gaps, soft []int
	for i, f := range frames[10:] {
		switch r := rms(f); {
		case r < toneRMS/10:
			gaps = append(gaps, i+10)
		case r < toneRMS/2:
			soft = append(soft, i+10)
		}
	}
	resyncs := 0
	for _, c := range bob.m.Active() {
		bob.m.mu.Lock()
		cc := bob.m.calls[c.Call]
		bob.m.mu.Unlock()
		for _, l := range cc.legList() {
			b := l.media.recv.Stats().Buffer
			resyncs += int(b.Resyncs)
			t.Logf("bob's jitter buffer: %+v", b)
		}
	}
	st := bob.ev.wait(t, "stats", func(ev any) bool { s, ok := ev.(Stats); return ok && s.FramesPlayed > 100 }).(Stats)
	mu.Lock()
	t.Logf("network dropped %d of %d packets; bob: %d frames, loss %.3f, concealed %d, FEC-recovered %d, jitter %v; %d soft frames %v, gaps at %v",
		dropped, total, len(frames), st.Loss, st.Concealed, st.Recovered, st.Jitter, len(soft), soft, gaps)
	mu.Unlock()
	// Without concealment 5 % loss would leave ~5 % of frames silent. Allow 2 %:
	// this runs in real time, and a starved scheduler (race detector, a loaded
	// CI machine) can hold packets back 80 ms or more — past any jitter buffer, and
	// longer than Opus concealment lasts (it fades by -30 dB within three frames:
	// seen as the rare pair of silent frames that made a 1 % limit fail one run in
	// five under -race).
	//
	// The virtual network never delays a packet by more than 25 ms, so a jitter
	// buffer resync here is the whole machine stalling past the 200 ms target
	// (seen at load 12–19 under -race): the buffer then starts a new timeline and
	// about a dozen frames go quiet while it refills, which says nothing of loss
	// concealment. Each resync is logged and allowed 15 frames.
	allowed := (len(frames)-10)/50 + 15*resyncs
	if resyncs > 0 {
		t.Logf("the machine stalled: %d jitter buffer resyncs, %d more silent frames allowed", resyncs, 15*resyncs)
	}
	if len(gaps) > allowed {
		t.Fatalf("%d of %d frames fell silent at 5 %% loss (at %v; %d allowed)", len(gaps), len(frames)-10, gaps, allowed)
	}
	if st.Concealed+st.Recovered == 0 {
		t.Fatal("5 % loss but nothing concealed or recovered: the filter did not bite")
	}
	// bob's receiver reports show the loss, so alice's encoder spends FEC bits.
	fec := alice.ev.wait(t, "alice's FEC tuned for the loss", func(ev any) bool {
		s, ok := ev.(Stats)
		return ok && s.FECLoss >= 2
	}).(Stats)
	t.Logf("alice's FEC tuned for %d %% loss", fec.FECLoss)
}
