package jitter

import (
	"testing"
	"time"
)

func TestRandomJitterAndLoss(t *testing.T) {
	rng := seeded(21, 22)
	const n = 3000 // one minute
	lostSent := 0
	pkts := stream(n, 40000, 12345, func(int) time.Duration {
		if rng.Float64() < 0.05 {
			lostSent++
			return -1
		}
		return 10*time.Millisecond + time.Duration(rng.Float64()*float64(30*time.Millisecond))
	})
	b := New(Config{})
	out := untilLast(run(b, pkts, n+20, frameDur, 7*time.Millisecond))
	checkIncreasing(t, normals(out))
	st := b.Stats()
	t.Logf("%+v", st)
	// RFC 3550 jitter of iid uniform 0–30 ms delays is E|X−Y| = 10 ms.
	if st.Jitter < 7*time.Millisecond || st.Jitter > 13*time.Millisecond {
		t.Errorf("jitter %v, want about 10 ms", st.Jitter)
	}
	if st.TargetDelay < 30*time.Millisecond || st.TargetDelay > 60*time.Millisecond {
		t.Errorf("target %v for 30 ms of jitter", st.TargetDelay)
	}
	// Nearly every packet sent arrives in time; losses are the network's.
	if st.Late > n/200 {
		t.Errorf("%d late packets", st.Late)
	}
	if st.Lost < uint64(lostSent) || st.Lost > uint64(lostSent)+st.Late+st.Dropped {
		t.Errorf("lost %d, network lost %d (late %d, dropped %d)", st.Lost, lostSent, st.Late, st.Dropped)
	}
	// Every frame period after the start is filled by something other than silence.
	k := kinds(out[5:])
	if k[Silence] != 0 {
		t.Errorf("silence inside a continuous stream: %v", k)
	}
	// FEC needs the next packet to be in by the time the lost frame is due, which
	// with a target of about the jitter's range it is for roughly half the losses.
	if st.FECRecovered < uint64(lostSent)/3 {
		t.Errorf("only %d of %d losses recovered by FEC", st.FECRecovered, lostSent)
	}
	_, hi := playoutDelay(out[len(out)/2:])
	if hi > 10*time.Millisecond+st.TargetDelay+3*frameDur {
		t.Errorf("playout delay up to %v with target %v", hi, st.TargetDelay)
	}
}

func TestClockDriftIsAbsorbed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		popEvery time.Duration
	}{
		{"receiver slow", 20*time.Millisecond + 20*time.Microsecond}, // 0.1 %
		{"receiver fast", 20*time.Millisecond - 20*time.Microsecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 6000 // two minutes: 120 ms of drift
			b := New(Config{})
			pkts := stream(n, 0, 0, constDelay(5*time.Millisecond))
			pops := int(time.Duration(n) * frameDur / tc.popEvery)
			out := untilLast(run(b, pkts, pops, tc.popEvery, 0))
			checkIncreasing(t, normals(out))
			st := b.Stats()
			t.Logf("%+v", st)
			if st.Late+st.Resyncs != 0 {
				t.Fatalf("drift caused late packets or resyncs: %+v", st)
			}
			// About 120 ms must have been dropped or inserted, a frame at a time.
			if adj := st.Skipped + st.Stretched; adj < 4 || adj > 8 {
				t.Fatalf("%d skips + %d stretches for 6 frames of drift", st.Skipped, st.Stretched)
			}
			_, hi := playoutDelay(out[len(out)-500:])
			if hi > 5*time.Millisecond+20*time.Millisecond+2*frameDur {
				t.Fatalf("delay grew to %v", hi)
			}
		})
	}
}

func TestPausedTimestampsStartNewTimeline(t *testing.T) {
	// A sender that sends nothing for 5 s and resumes with the timestamp where it
	// stopped (pion's sample writer does that when no samples are written).
	var pkts []simPkt
	for i := range 200 {
		wall := time.Duration(i) * frameDur
		if i >= 100 {
			wall += 5 * time.Second
		}
		pkts = append(pkts, simPkt{i: i, seq: uint16(i), ts: uint32(i) * 960, arr: t0.Add(wall + 3*time.Millisecond)})
	}
	b := New(Config{})
	out := untilLast(run(b, pkts, 460, frameDur, 0))
	got := normals(out)
	checkIncreasing(t, got)
	st := b.Stats()
	t.Logf("%+v", st)
	if len(got) < 195 || st.Resyncs != 1 || st.Late != 0 {
		t.Fatalf("played %d of 200 across a timestamp pause: %+v", len(got), st)
	}
	if st.TargetDelay > 40*time.Millisecond {
		t.Fatalf("pause inflated the target to %v", st.TargetDelay)
	}
}

func TestNewStreamResyncs(t *testing.T) {
	a := stream(100, 100, 1000, constDelay(3*time.Millisecond))
	c := stream(200, 40000, 3_000_000_000, constDelay(3*time.Millisecond))
	for i := range c {
		c[i].i += 1000
	}
	b := New(Config{})
	out := untilLast(run(b, append(a, c[100:]...), 210, frameDur, 0))
	got := normals(out)
	checkIncreasing(t, got)
	if st := b.Stats(); len(got) < 195 || st.Resyncs == 0 {
		t.Fatalf("played %d after a new stream: %+v", len(got), st)
	}
}

func TestOverflowIsBounded(t *testing.T) {
	b := New(Config{})
	for i := range 300 {
		b.Push(Packet{Seq: uint16(i), Timestamp: uint32(i) * 960, Payload: payload(i), Arrival: t0})
		if s := b.Stats(); s.Buffered > defaultMaxPackets {
			t.Fatalf("buffered %d", s.Buffered)
		}
	}
	st := b.Stats()
	if st.Dropped != 250 || st.Buffered != 50 {
		t.Fatalf("%+v: want 50 kept and 250 dropped", st)
	}
	// A span cap: 30 packets 100 ms apart exceed 1 s.
	b = New(Config{})
	for i := range 30 {
		b.Push(Packet{Seq: uint16(i), Timestamp: uint32(i) * 4800, Arrival: t0})
	}
	if st := b.Stats(); st.Buffered > 11 {
		t.Fatalf("span cap: %d packets buffered over 100 ms steps", st.Buffered)
	}
}

func TestStalledPlayoutCatchesUp(t *testing.T) {
	pkts := stream(400, 0, 0, constDelay(3*time.Millisecond))
	var sorted []simPkt
	sorted = append(sorted, pkts...)
	b := New(Config{})
	out := run(b, sorted[:100], 100, frameDur, 0)
	// No Pop for 2 s, while 100 packets arrive.
	for _, p := range sorted[100:200] {
		b.Push(Packet{Seq: p.seq, Timestamp: p.ts, Payload: payload(p.i), Arrival: p.arr})
	}
	var rest []played
	k := 200
	for n := 200; n < 420; n++ {
		now := t0.Add(time.Duration(n) * frameDur)
		for k < len(sorted) && !sorted[k].arr.After(now) {
			p := sorted[k]
			b.Push(Packet{Seq: p.seq, Timestamp: p.ts, Payload: payload(p.i), Arrival: p.arr})
			k++
		}
		f := b.Pop(now)
		idx := -1
		if f.Payload != nil {
			idx = int(f.Payload[2])<<8 | int(f.Payload[3])
		}
		rest = append(rest, played{at: now, kind: f.Kind, idx: idx})
	}
	checkIncreasing(t, normals(append(out, rest...)))
	// Within a few frames of resuming, playout is back at the normal delay.
	lo, hi := playoutDelay(untilLast(rest)[5:])
	if hi > 3*time.Millisecond+20*time.Millisecond+frameDur || lo < 20*time.Millisecond {
		t.Fatalf("after the stall, delay %v..%v (%+v)", lo, hi, b.Stats())
	}
}

// The path's delay steps up by more than the largest target and stays there (a
// relay swapped for a slower one, a sender that fell behind real time under load
// and stayed behind): every packet then arrives after its frame was played. The
// buffer used to count them all Late and play silence until the old fastest path
// left its 10 s window — seen as the silent tail of TestCallStaysContinuous-
// AtFivePercentLoss on a loaded machine and under Wine. It must re-anchor within
// a few frames and play the rest.
func TestLastingDelayStepReanchors(t *testing.T) {
	for _, step := range []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, 900 * time.Millisecond} {
		t.Run(step.String(), func(t *testing.T) {
			delay := func(i int) time.Duration {
				if i >= 100 {
					return 5*time.Millisecond + step
				}
				return 5 * time.Millisecond
			}
			b := New(Config{})
			out := untilLast(run(b, stream(400, 0, 0, delay), 460, frameDur, 0))
			got := normals(out)
			checkIncreasing(t, got)
			st := b.Stats()
			// After the step: at most ~250 ms of audio (a dozen frames) lost while
			// the lateness is recognised and the target refilled.
			after := 0
			for _, i := range got {
				if i >= 100 {
					after++
				}
			}
			t.Logf("step %v: played %d of the 300 frames after it; %+v", step, after, st)
			if after < 300-15 {
				t.Fatalf("step %v: only %d of the 300 frames after it played", step, after)
			}
		})
	}
}

// A stall that delivers its packets in one burst and then recovers is a spike,
// not a slower path: it must not restart the timeline (the target absorbs it as
// before), however many of the burst's packets are late.
func TestStallBurstDoesNotReanchor(t *testing.T) {
	delay := func(i int) time.Duration {
		if i >= 100 && i < 115 { // held 300 ms, then released together
			return 5*time.Millisecond + time.Duration(115-i)*frameDur
		}
		return 5 * time.Millisecond
	}
	b := New(Config{})
	out := untilLast(run(b, stream(300, 0, 0, delay), 360, frameDur, 0))
	got := normals(out)
	checkIncreasing(t, got)
	st := b.Stats()
	if st.Late == 0 {
		t.Fatalf("the burst made nothing late, so this tests nothing: %+v", st)
	}
	if st.Resyncs != 0 {
		t.Fatalf("a one-off stall restarted the timeline: %+v", st)
	}
	if len(got) < 280 {
		t.Fatalf("played %d of 300 around a 300 ms stall: %+v", len(got), st)
	}
}
