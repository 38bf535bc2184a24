package jitter

import (
	"testing"
	"time"
)

func TestSteadyStreamPlaysEverythingAtMinimumDelay(t *testing.T) {
	b := New(Config{})
	pkts := stream(500, 1000, 5000, constDelay(7*time.Millisecond))
	out := run(b, pkts, 510, frameDur, 3*time.Millisecond)
	got := normals(out)
	if len(got) != 500 {
		t.Fatalf("played %d of 500 (kinds %v)", len(got), kinds(out))
	}
	checkIncreasing(t, got)
	// Network 7 ms + target 20 ms, rounded up to the next Pop (20 ms grid).
	lo, hi := playoutDelay(out)
	if lo < 27*time.Millisecond || hi > 47*time.Millisecond || hi-lo > 0 {
		t.Fatalf("playout delay %v..%v, want one constant value within 27..47 ms", lo, hi)
	}
	// Silence only before the first frame was due and after the stream ended.
	for i, f := range out {
		if f.kind != Normal && i > 2 && i < 500 {
			t.Fatalf("pop %d: %v in a steady stream", i, f.kind)
		}
	}
	st := b.Stats()
	if st.Lost+st.Late+st.Dropped+st.Duplicates+st.Skipped+st.Stretched+st.Resyncs != 0 {
		t.Fatalf("clean stream: %+v", st)
	}
	if st.TargetDelay != 20*time.Millisecond || st.Jitter != 0 {
		t.Fatalf("target %v jitter %v on a constant-delay path", st.TargetDelay, st.Jitter)
	}
}

func TestDuplicatesAreDroppedAndCounted(t *testing.T) {
	b := New(Config{})
	pkts := stream(200, 0, 0, constDelay(5*time.Millisecond))
	dups := stream(200, 0, 0, func(i int) time.Duration {
		if i%4 == 0 {
			return 9 * time.Millisecond
		}
		return -1
	})
	out := run(b, append(pkts, dups...), 210, frameDur, 0)
	got := normals(out)
	if len(got) != 200 {
		t.Fatalf("played %d of 200", len(got))
	}
	checkIncreasing(t, got)
	if st := b.Stats(); st.Duplicates != 50 || st.Late != 0 || st.Lost != 0 {
		t.Fatalf("stats %+v, want 50 duplicates and nothing lost", st)
	}
}

func TestSingleLossIsRecoveredByFEC(t *testing.T) {
	b := New(Config{})
	pkts := stream(100, 0, 0, func(i int) time.Duration {
		if i == 40 {
			return -1
		}
		return 2 * time.Millisecond
	})
	out := untilLast(run(b, pkts, 105, frameDur, 0))
	if k := kinds(out); k[FEC] != 1 || k[Conceal] != 0 {
		t.Fatalf("frames %v, want one FEC and no concealment", k)
	}
	for i, f := range out {
		if f.kind == FEC {
			if f.idx != 41 {
				t.Fatalf("FEC frame carries packet %d, want 41 (the one after the loss)", f.idx)
			}
			if out[i-1].idx != 39 || out[i+1].kind != Normal || out[i+1].idx != 41 {
				t.Fatalf("around the loss: %+v %+v %+v", out[i-1], f, out[i+1])
			}
		}
	}
	if st := b.Stats(); st.Lost != 1 || st.FECRecovered != 1 {
		t.Fatalf("stats %+v, want 1 lost, recovered by FEC", st)
	}
}

func TestBurstLossConcealsThenRecovers(t *testing.T) {
	b := New(Config{})
	pkts := stream(100, 0, 0, func(i int) time.Duration {
		if i >= 50 && i < 53 {
			return -1
		}
		return 2 * time.Millisecond
	})
	out := untilLast(run(b, pkts, 105, frameDur, 0))
	var seq []Kind
	for _, f := range out {
		if f.kind != Normal || (f.idx >= 49 && f.idx <= 53) {
			seq = append(seq, f.kind)
		}
	}
	// Startup silence, then: 49, conceal, conceal, FEC(53), 53, and the tail.
	want := []Kind{Normal, Conceal, Conceal, FEC, Normal}
	found := false
	for i := 0; i+len(want) <= len(seq); i++ {
		match := true
		for j := range want {
			if seq[i+j] != want[j] {
				match = false
			}
		}
		found = found || match
	}
	if !found {
		t.Fatalf("frame kinds around the burst: %v, want the run %v", seq, want)
	}
	if st, k := b.Stats(), kinds(out); st.Lost != 3 || st.FECRecovered != 1 || k[Conceal] != 2 {
		t.Fatalf("stats %+v, frames %v", st, k)
	}
}

func TestWrapAroundOfSequenceAndTimestamp(t *testing.T) {
	b := New(Config{})
	// Both counters wrap within the first second.
	pkts := stream(300, 65500, 0xFFFFFFFF-960*20, constDelay(4*time.Millisecond))
	out := run(b, pkts, 310, frameDur, 0)
	got := normals(out)
	if len(got) != 300 {
		t.Fatalf("played %d of 300 across wrap-around (%+v)", len(got), b.Stats())
	}
	checkIncreasing(t, got)
	if st := b.Stats(); st.Lost+st.Late+st.Resyncs != 0 {
		t.Fatalf("wrap-around seen as trouble: %+v", st)
	}
}

func TestReorderingWithinTheTarget(t *testing.T) {
	b := New(Config{})
	// Odd packets overtake even ones: each pair arrives swapped, 12 ms apart.
	pkts := stream(400, 7, 70, func(i int) time.Duration {
		if i%2 == 0 {
			return 25 * time.Millisecond
		}
		return 5 * time.Millisecond
	})
	out := run(b, pkts, 420, frameDur, 0)
	got := normals(out)
	checkIncreasing(t, got)
	st := b.Stats()
	if st.Late > 2 || len(got) < 395 {
		t.Fatalf("reordering cost %d late packets, played %d of 400 (%+v)", st.Late, len(got), st)
	}
}

func TestDTXGapPlaysSilenceWithoutLoss(t *testing.T) {
	b := New(Config{})
	// Talk for 1 s, silence (no packets, timestamps jump) for 1 s, talk for 1 s;
	// sequence numbers stay contiguous across the gap.
	var pkts []simPkt
	for i := range 100 {
		frame := i
		if i >= 50 {
			frame = i + 50
		}
		pkts = append(pkts, simPkt{
			i:   frame,
			seq: uint16(i),
			ts:  uint32(frame) * 960,
			arr: t0.Add(time.Duration(frame)*frameDur + 3*time.Millisecond),
		})
	}
	out := untilLast(run(b, pkts, 155, frameDur, 0))
	got := normals(out)
	if len(got) != 100 {
		t.Fatalf("played %d of 100", len(got))
	}
	checkIncreasing(t, got)
	st := b.Stats()
	if st.Lost != 0 || st.Late != 0 || st.FECRecovered != 0 || st.Resyncs != 0 {
		t.Fatalf("DTX gap counted as trouble: %+v", st)
	}
	// The first frame after the gap plays exactly 50 frames after the last before it.
	var before, after time.Time
	for _, f := range out {
		if f.idx == 49 && f.kind == Normal {
			before = f.at
		}
		if f.idx == 100 && f.kind == Normal {
			after = f.at
		}
	}
	if gap := after.Sub(before); gap != 51*frameDur {
		t.Fatalf("talk spurts played %v apart, sent %v apart", gap, 51*frameDur)
	}
	if k := kinds(out); k[Silence] < 45 || k[Conceal] > concealRun {
		t.Fatalf("gap played as %v", k)
	}
}

func TestLatePacketGrowsTargetThenItDecays(t *testing.T) {
	b := New(Config{})
	pkts := stream(3000, 0, 0, func(i int) time.Duration {
		if i == 100 {
			return 150 * time.Millisecond
		}
		return 5 * time.Millisecond
	})
	var maxTarget time.Duration
	outs := runHook(b, pkts, 3000, frameDur, 0, func(int) {
		maxTarget = max(maxTarget, b.Stats().TargetDelay)
	})
	st := b.Stats()
	t.Logf("peak target %v; %+v", maxTarget, st)
	if st.Late != 1 {
		t.Fatalf("late %d, want the one delayed packet (%+v)", st.Late, st)
	}
	if maxTarget < 150*time.Millisecond {
		t.Fatalf("target peaked at %v after a 150 ms late packet", maxTarget)
	}
	if st.TargetDelay > 25*time.Millisecond {
		t.Fatalf("target still %v 55 s after the spike", st.TargetDelay)
	}
	if st.Stretched == 0 || st.Skipped == 0 {
		t.Fatalf("delay grown %d and shrunk %d times, want both", st.Stretched, st.Skipped)
	}
	checkIncreasing(t, normals(outs))
	// Back at the minimum: the last frames play 5 ms network + 20 ms target + < 20.
	_, hi := playoutDelay(outs[len(outs)-100:])
	if hi > 45*time.Millisecond {
		t.Fatalf("playout delay after decay %v", hi)
	}
}
