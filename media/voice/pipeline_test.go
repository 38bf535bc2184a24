package voice

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"parley/media/audio"
	"parley/media/opus"
	"parley/media/signal"
)

// The pipeline test runs Sender → simulated network → Receiver in lock-step on a
// virtual clock: the sender produces frame i at t0 + i·20 ms, the network gives it a
// delay (or loses it), and the receiver is ticked at t0 + i·20 ms + phase once every
// packet that has arrived by then is pushed. Nothing sleeps; the result is the same
// on every run.

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// recording wraps a source and keeps what it produced.
type recording struct {
	audio.Source
	mu   sync.Mutex
	sent []int16
}

func (r *recording) ReadFrame(dst []int16) error {
	err := r.Source.ReadFrame(dst)
	if err == nil {
		r.mu.Lock()
		r.sent = append(r.sent, dst...)
		r.mu.Unlock()
	}
	return err
}

func (r *recording) samples() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int16(nil), r.sent...)
}

// notifying is a memory sink that reports each frame written.
type notifying struct {
	*audio.MemorySink
	wrote chan struct{}
}

func (n *notifying) WriteFrame(src []int16) error {
	err := n.MemorySink.WriteFrame(src)
	n.wrote <- struct{}{}
	return err
}

type network struct {
	// delay returns packet i's one-way delay, or a negative value to lose it.
	delay func(i int) time.Duration
	phase time.Duration // receiver tick offset from the sender's frame times
}

type inflight struct {
	seq     uint16
	ts      uint32
	payload []byte
	arrival time.Time
}

type result struct {
	sent, heard []int16
	rx          ReceiverStats
	tx          SenderStats
}

// runPipeline sends frames frames of src through net and returns both ends' audio.
func runPipeline(t testing.TB, src audio.Source, enc opus.Options, net network, frames int) result {
	rec := &recording{Source: src}
	e, err := opus.NewEncoder(enc)
	if err != nil {
		t.Fatal(err)
	}
	sender := NewSender(rec, e)
	sink := &notifying{MemorySink: audio.NewMemorySink(0), wrote: make(chan struct{})}
	rx, err := NewReceiver(sink, ReceiverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan []byte)
	ticks := make(chan time.Time)
	var wg sync.WaitGroup
	wg.Add(2)
	var sendErr, recvErr error
	go func() {
		defer wg.Done()
		sendErr = sender.Run(ctx, func(p []byte, d time.Duration) error {
			if d != audio.FrameDuration {
				t.Errorf("write with duration %v", d)
			}
			select {
			case out <- p:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	go func() {
		defer wg.Done()
		recvErr = rx.Run(ctx, ticks)
	}()

	seq, ts := uint16(rand.N(65536)), rand.Uint32() // any start must work
	var air []inflight
	for i := range frames {
		p := <-out
		if d := net.delay(i); d >= 0 {
			air = append(air, inflight{seq: seq, ts: ts, payload: p, arrival: t0.Add(time.Duration(i)*audio.FrameDuration + d)})
		}
		seq++
		ts += audio.FrameSamples
		now := t0.Add(time.Duration(i)*audio.FrameDuration + net.phase)
		sort.SliceStable(air, func(a, b int) bool { return air[a].arrival.Before(air[b].arrival) })
		k := 0
		for ; k < len(air) && !air[k].arrival.After(now); k++ {
			rx.Push(air[k].seq, air[k].ts, air[k].payload, air[k].arrival)
		}
		air = air[k:]
		ticks <- now
		<-sink.wrote
	}
	cancel()
	wg.Wait()
	if sendErr != nil || recvErr != nil {
		t.Fatalf("sender: %v, receiver: %v", sendErr, recvErr)
	}
	sent := rec.samples()
	return result{sent: sent[:frames*audio.FrameSamples], heard: sink.Samples(), rx: rx.Stats(), tx: sender.Stats()}
}

func fixed(d time.Duration) func(int) time.Duration { return func(int) time.Duration { return d } }

// sweep is a tone gliding between 300 and 700 Hz: unlike a steady tone it aligns at
// exactly one lag, and it is low enough for Opus to keep its waveform.
type sweep struct{ phase, t float64 }

func (s *sweep) ReadFrame(dst []int16) error {
	for i := range dst {
		hz := 500 + 200*math.Sin(2*math.Pi*0.5*s.t)
		s.phase += 2 * math.Pi * hz / audio.SampleRate
		s.t += 1.0 / audio.SampleRate
		dst[i] = int16(8000 * math.Sin(s.phase))
	}
	return nil
}
func (s *sweep) Close() error { return nil }

func TestCleanChannelReproducesTheTone(t *testing.T) {
	r := runPipeline(t, audio.NewTone(440, 0.25), opus.Options{}, network{delay: fixed(5 * time.Millisecond), phase: 10 * time.Millisecond}, 250)
	lag, corr := signal.Align(r.sent, r.heard, audio.SampleRate/2)
	snr := signal.SNR(r.sent, r.heard, lag)
	t.Logf("lag %d samples, corr %.3f, SNR %.1f dB; %+v", lag, corr, snr, r.rx)
	if snr < 20 {
		t.Fatalf("SNR %.1f dB on a clean channel, want ≥ 20", snr)
	}
	if f := signal.DominantFrequency(r.heard, audio.SampleRate); math.Abs(f-440) > 1 {
		t.Fatalf("heard %.1f Hz, sent 440", f)
	}
	if r.rx.LossFraction != 0 || r.rx.Concealed != 0 || r.rx.FramesWritten != 250 || r.tx.Frames != 250 {
		t.Fatalf("clean channel: rx %+v tx %+v", r.rx, r.tx)
	}
	if math.Abs(r.rx.Level-0.25/math.Sqrt2) > 0.03 {
		t.Fatalf("level %.3f for a tone of RMS %.3f", r.rx.Level, 0.25/math.Sqrt2)
	}
}

func TestLossyJitteryChannelStaysContinuous(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	lost := 0
	net := network{
		delay: func(int) time.Duration {
			if rng.Float64() < 0.05 {
				lost++
				return -1
			}
			return 5*time.Millisecond + time.Duration(rng.Float64()*float64(30*time.Millisecond))
		},
		phase: 3 * time.Millisecond,
	}
	const frames = 1500 // 30 s
	r := runPipeline(t, audio.NewTone(440, 0.25), opus.Options{FEC: true, ExpectedLossPercent: 5}, net, frames)
	t.Logf("network lost %d; %+v", lost, r.rx)

	// Continuity: once sound starts, no frame of the output is silent. Concealment
	// fades and Opus FEC is coarse (after a concealed frame libopus brings the level
	// back up over a frame or two), so a frame counts as a gap only below 1 % of the
	// tone's level; frames below half of it must be accounted for by losses.
	toneRMS := 0.25 / math.Sqrt2
	first, quiet := -1, 0
	for i := 0; i+audio.FrameSamples <= len(r.heard); i += audio.FrameSamples {
		level := signal.RMS(r.heard[i : i+audio.FrameSamples])
		if first < 0 {
			if level > toneRMS/2 {
				first = i / audio.FrameSamples
			}
			continue
		}
		if level < toneRMS/100 {
			t.Fatalf("frame %d is silent (RMS %.4f), %d frames after sound started", i/audio.FrameSamples, level, i/audio.FrameSamples-first)
		}
		if level < toneRMS/2 {
			quiet++
		}
	}
	t.Logf("%d frames below half level", quiet)
	if first < 0 || first > 5 {
		t.Fatalf("sound started at frame %d", first)
	}
	if quiet > 3*lost {
		t.Fatalf("%d quiet frames for %d lost packets", quiet, lost)
	}
	b := r.rx.Buffer
	if b.Lost < uint64(lost) || r.rx.Recovered == 0 || r.rx.Concealed == 0 {
		t.Fatalf("network lost %d; receiver lost %d, recovered %d, concealed %d", lost, b.Lost, r.rx.Recovered, r.rx.Concealed)
	}
	if r.rx.LossFraction < 0.03 || r.rx.LossFraction > 0.08 {
		t.Fatalf("loss fraction %.3f for 5%% loss", r.rx.LossFraction)
	}
	if r.rx.Jitter < 5*time.Millisecond || r.rx.Jitter > 15*time.Millisecond {
		t.Fatalf("jitter %v for 0–30 ms uniform delay", r.rx.Jitter)
	}
	if r.rx.TargetDelay < 30*time.Millisecond || r.rx.TargetDelay > 80*time.Millisecond {
		t.Fatalf("target delay %v", r.rx.TargetDelay)
	}
	// Still recognisably the same tone.
	if f := signal.DominantFrequency(r.heard, audio.SampleRate); math.Abs(f-440) > 1 {
		t.Fatalf("heard %.1f Hz", f)
	}
}

func TestLatencyAtMinimumTarget(t *testing.T) {
	r := runPipeline(t, &sweep{}, opus.Options{}, network{delay: fixed(0), phase: 10 * time.Millisecond}, 200)
	lag, corr := signal.Align(r.sent, r.heard, audio.SampleRate/2)
	// Output sample k*960 is written at tick k, which is phase after the sender's
	// frame k: the lag in samples plus the phase is the time from a frame entering
	// the Sender to the same audio leaving the decoder.
	ms := float64(lag)*1000/audio.SampleRate + 10
	t.Logf("sent → played: lag %d samples + 10 ms tick phase = %.1f ms (corr %.3f, target %v)", lag, ms, corr, r.rx.TargetDelay)
	if corr < 0.9 {
		t.Fatalf("output does not match input (corr %.3f)", corr)
	}
	// Target 20 ms + tick phase 10 ms + the codec's 6.5 ms look-ahead.
	if ms < 30 || ms > 45 {
		t.Fatalf("virtual latency %.1f ms, want about 36.5", ms)
	}
}

func TestMuteSendsSilenceEveryFrame(t *testing.T) {
	src := audio.NewTone(440, 0.25)
	e, _ := opus.NewEncoder(opus.Options{DTX: true})
	s := NewSender(src, e)
	s.SetMuted(true)
	ctx, cancel := context.WithCancel(context.Background())
	var sizes []int
	err := s.Run(ctx, func(p []byte, _ time.Duration) error {
		sizes = append(sizes, len(p))
		if len(sizes) == 100 {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Frames != 100 || !st.Muted || st.DTXFrames < 80 {
		t.Fatalf("muted: %+v", st)
	}
	// Unmuted, the tone is encoded in full frames again.
	s.SetMuted(false)
	ctx, cancel = context.WithCancel(context.Background())
	sizes = sizes[:0]
	s.Run(ctx, func(p []byte, _ time.Duration) error {
		sizes = append(sizes, len(p))
		if len(sizes) == 20 {
			cancel()
		}
		return nil
	})
	if sizes[19] <= DTXMaxBytes {
		t.Fatalf("unmuted tone still DTX: %v", sizes)
	}
}
