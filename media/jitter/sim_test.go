package jitter

import (
	"encoding/binary"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// A small network simulator: a sender emits packet i at i·20 ms, the network adds a
// delay (or drops it), and the playout loop pops every popEvery starting at phase.

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const frameDur = 20 * time.Millisecond

type simPkt struct {
	i   int // index in the sent stream; the payload carries it
	seq uint16
	ts  uint32
	arr time.Time
}

type played struct {
	at   time.Time
	kind Kind
	idx  int // payload's index, -1 without payload
}

// stream makes n packets from seq0/ts0; delay(i) gives packet i's network delay, or
// a negative value to lose it.
func stream(n int, seq0 uint16, ts0 uint32, delay func(i int) time.Duration) []simPkt {
	var out []simPkt
	for i := range n {
		d := delay(i)
		if d < 0 {
			continue
		}
		out = append(out, simPkt{
			i:   i,
			seq: seq0 + uint16(i),
			ts:  ts0 + uint32(i)*960,
			arr: t0.Add(time.Duration(i)*frameDur + d),
		})
	}
	return out
}

func payload(i int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(i)) }

// run pushes packets as their arrival time passes and pops every popEvery from
// t0+phase, pops times.
func run(b *Buffer, pkts []simPkt, pops int, popEvery, phase time.Duration) []played {
	return runHook(b, pkts, pops, popEvery, phase, nil)
}

// runHook is run with a hook called after every Pop.
func runHook(b *Buffer, pkts []simPkt, pops int, popEvery, phase time.Duration, hook func(n int)) []played {
	pkts = append([]simPkt(nil), pkts...)
	sort.SliceStable(pkts, func(a, c int) bool { return pkts[a].arr.Before(pkts[c].arr) })
	var out []played
	k := 0
	for n := range pops {
		now := t0.Add(phase + time.Duration(n)*popEvery)
		for k < len(pkts) && !pkts[k].arr.After(now) {
			p := pkts[k]
			b.Push(Packet{Seq: p.seq, Timestamp: p.ts, Payload: payload(p.i), Arrival: p.arr})
			k++
		}
		f := b.Pop(now)
		idx := -1
		if f.Payload != nil {
			idx = int(binary.BigEndian.Uint32(f.Payload))
		}
		out = append(out, played{at: now, kind: f.Kind, idx: idx})
		if hook != nil {
			hook(n)
		}
	}
	return out
}

// untilLast cuts p after its last Normal frame, so the concealment that follows the
// end of a stream does not count.
func untilLast(p []played) []played {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i].kind == Normal {
			return p[:i+1]
		}
	}
	return nil
}

func constDelay(d time.Duration) func(int) time.Duration {
	return func(int) time.Duration { return d }
}

// normals returns the payload indices of Normal frames, in play order.
func normals(p []played) []int {
	var out []int
	for _, f := range p {
		if f.kind == Normal {
			out = append(out, f.idx)
		}
	}
	return out
}

func kinds(p []played) map[Kind]int {
	m := map[Kind]int{}
	for _, f := range p {
		m[f.kind]++
	}
	return m
}

// checkIncreasing fails if frames are not played in sending order without repeats.
func checkIncreasing(t *testing.T, idx []int) {
	t.Helper()
	for i := 1; i < len(idx); i++ {
		if idx[i] <= idx[i-1] {
			t.Fatalf("played %d after %d", idx[i], idx[i-1])
		}
	}
}

// playoutDelay is, for each Normal frame, the time from the packet's send time to
// the Pop that played it.
func playoutDelay(p []played) (lo, hi time.Duration) {
	lo = time.Hour
	for _, f := range p {
		if f.kind != Normal {
			continue
		}
		d := f.at.Sub(t0.Add(time.Duration(f.idx) * frameDur))
		lo, hi = min(lo, d), max(hi, d)
	}
	return lo, hi
}

func seeded(a, b uint64) *rand.Rand { return rand.New(rand.NewPCG(a, b)) }
